// What a file tells the ranking: its language, the names it declares, what it imports, and its
// terms. TypeScript and JavaScript are read with the TypeScript compiler's parser (top-level
// declarations and class members, static imports and re-exports); Python with a line reader
// (def, class, import, from … import); anything else by its words alone (decision 0026).
import { createRequire } from 'node:module';
import type ts from 'typescript';
import { termCounts } from './terms.js';

// The compiler is 9 MB of CommonJS: required on the first parse, so a process that never reads a
// script (every `baton` command but context and chat) does not pay ~0.4 s to load it.
let compiler: typeof ts | undefined;
const typescript = (): typeof ts => (compiler ??= createRequire(import.meta.url)('typescript') as typeof ts);

export type Language = 'typescript' | 'javascript' | 'python' | 'markdown' | 'yaml' | 'json' | 'other';

/** What the index keeps of one file. */
export interface FileFacts {
  readonly path: string;
  readonly lang: Language;
  /** Names it declares: functions, classes (and their members), interfaces, types, enums, variables. */
  readonly symbols: string[];
  /** Module specifiers as written (`./store.js`, `@baton/core`, `os.path`). */
  readonly imports: string[];
  /** Weighted term counts: the path's terms ×3, the symbols' ×2, the content's ×1. */
  readonly terms: Record<string, number>;
  /** The sum of the weighted counts (BM25's document length). */
  readonly length: number;
  readonly bytes: number;
  /** A package.json's `name`: imports of that package resolve into its directory. */
  readonly packageName?: string;
}

const LANGUAGES: Record<string, Language> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  md: 'markdown',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
};

export function languageOf(path: string): Language {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return LANGUAGES[ext] ?? 'other';
}

/** Source files: those whose symbols and imports are read. */
export function isSource(path: string): boolean {
  const lang = languageOf(path);
  return lang === 'typescript' || lang === 'javascript' || lang === 'python';
}

/** True when the bytes look binary (a NUL in the first 8 KiB), as git decides. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export function extractFacts(path: string, text: string): FileFacts {
  const lang = languageOf(path);
  const { symbols, imports } =
    lang === 'typescript' || lang === 'javascript'
      ? scriptFacts(path, text)
      : lang === 'python'
        ? pythonFacts(text)
        : { symbols: [], imports: [] };
  const counts = termCounts(path.replace(/\.[A-Za-z0-9]+$/, ''), 3);
  termCounts(symbols.join(' '), 2, counts);
  termCounts(text, 1, counts);
  let length = 0;
  for (const n of counts.values()) length += n;
  const packageName = /(^|\/)package\.json$/.test(path) ? nameOfPackage(text) : undefined;
  return {
    path,
    lang,
    symbols,
    imports,
    terms: Object.fromEntries(counts),
    length,
    bytes: Buffer.byteLength(text),
    ...(packageName ? { packageName } : {}),
  };
}

function nameOfPackage(text: string): string | undefined {
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

function scriptFacts(path: string, text: string): { symbols: string[]; imports: string[] } {
  const ts = typescript();
  const kind = /\.[mc]?tsx?$/.test(path)
    ? path.endsWith('x')
      ? ts.ScriptKind.TSX
      : ts.ScriptKind.TS
    : path.endsWith('x')
      ? ts.ScriptKind.JSX
      : ts.ScriptKind.JS;
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
  const symbols: string[] = [];
  const imports: string[] = [];
  const named = (n: { name?: ts.Node }): void => {
    if (n.name && ts.isIdentifier(n.name)) symbols.push(n.name.text);
  };
  for (const st of file.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier) {
      if (ts.isStringLiteral(st.moduleSpecifier)) imports.push(st.moduleSpecifier.text);
    } else if (
      ts.isFunctionDeclaration(st) ||
      ts.isInterfaceDeclaration(st) ||
      ts.isTypeAliasDeclaration(st)
    ) {
      named(st);
    } else if (ts.isEnumDeclaration(st)) {
      named(st);
    } else if (ts.isClassDeclaration(st)) {
      named(st);
      for (const m of st.members) if (m.name && ts.isIdentifier(m.name)) symbols.push(m.name.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) symbols.push(d.name.text);
    }
  }
  return { symbols, imports };
}

function pythonFacts(text: string): { symbols: string[]; imports: string[] } {
  const symbols: string[] = [];
  const imports: string[] = [];
  for (const line of text.split('\n')) {
    const def = /^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/.exec(line);
    if (def) symbols.push(def[1]!);
    const from = /^\s*from\s+([\w.]+)\s+import\b/.exec(line);
    if (from) imports.push(from[1]!);
    const imp = /^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)/.exec(line);
    if (imp) for (const m of imp[1]!.split(',')) imports.push(m.trim());
  }
  return { symbols, imports };
}
