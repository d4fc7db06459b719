// Reads one YAML file into a tree that keeps, for every value, the file:line:col it came from, with
// environment references expanded in scalar values (never in keys).
import { APPEND_TAG, readYaml, typePlain, type YamlTree } from './yaml-tree.js';
import { expand, hasReference, EnvSyntaxError, type Env } from './env.js';
import { joinPath } from './paths.js';
import type { Diagnostics } from './diagnostics.js';
import type { SourceLocation } from './types.js';

/** The most values one file may hold once its aliases are expanded. */
const MAX_VALUES = 100_000;

/** Where a scalar's value came from when it was read through environment variables. */
export interface EnvOrigin {
  /** The text as written in the file (`${ANTHROPIC_API_KEY}`). */
  readonly raw: string;
  readonly vars: readonly string[];
  readonly unset: readonly string[];
  /** The expanded text, when the value was typed from it (`${PORT:-8080}` gave 8080). */
  readonly text?: string;
}

/**
 * Where the characters of a string value sit in the file, for errors inside the value (a template's
 * expression): the location of the first character of each of the value's lines. Only for values
 * whose text is the file's text character for character (plain, quoted without escapes, literal blocks).
 */
export type TextLines = readonly SourceLocation[];

/** The location of character `offset` of a value whose lines are `lines`, or undefined. */
export function locateInText(value: string, lines: TextLines, offset: number): SourceLocation | undefined {
  const before = value.slice(0, offset).split('\n');
  const start = lines[before.length - 1];
  return start && { ...start, col: start.col + before[before.length - 1]!.length };
}

export type SourceNode =
  | { readonly type: 'map'; readonly loc: SourceLocation; readonly entries: Map<string, SourceEntry> }
  | {
      readonly type: 'seq';
      readonly loc: SourceLocation;
      readonly items: SourceNode[];
      readonly append: boolean;
    }
  | {
      readonly type: 'scalar';
      readonly loc: SourceLocation;
      readonly value: unknown;
      readonly env?: EnvOrigin;
      readonly text?: TextLines;
    };

export interface SourceEntry {
  readonly keyLoc: SourceLocation;
  readonly node: SourceNode;
}

/**
 * Parses `text` (the contents of `file`) into a source tree. YAML errors (malformed text, duplicate
 * keys, tabs used for indentation) and bad references go to `diags` with their line and column;
 * the tree is then undefined. An empty document (nothing but comments) is also undefined, with no
 * diagnostic: the caller decides what an empty file means. `rootPath` is the key path of the
 * document's root, so unset-variable warnings name the merged path. Values under a path for which
 * `literal` is true keep their `${…}` as written (YAML workflows' templates) and record where their
 * characters are (`text`).
 */
export function readSource(
  file: string,
  text: string,
  env: Env,
  diags: Diagnostics,
  rootPath: (firstKey: string) => string,
  literal: (path: string) => boolean = () => false,
): SourceNode | undefined {
  const read = readYaml(text);
  const lineOf = lineLocator(text);
  const at = (offset: number): SourceLocation => ({ file, ...lineOf(offset) });
  const before = diags.errors.length;
  for (const e of read.errors)
    diags.error(at(e.offset), '', yamlMessage(e.code, e.message, /^[^:\n]*/.exec(text.slice(e.offset))![0]));
  for (const w of read.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED' && w.message.includes(APPEND_TAG)) continue;
    diags.warning(at(w.offset), '', w.message.split('\n')[0]!);
  }
  if (diags.errors.length > before || read.tree === undefined) return undefined;

  // Aliases are expanded where they are used, so a few lines can stand for millions of values (a
  // "billion laughs" file): the count of values read is capped.
  let values = 0;
  const convert = (node: YamlTree | null, path: string, depth: number): SourceNode => {
    if (depth > 64 || ++values > MAX_VALUES) throw new NestingError(at(node?.start ?? 0));
    if (node === null) return { type: 'scalar', loc: at(0), value: null };
    const loc = at(node.start);
    if (node.kind === 'alias') return convert(node.target, path, depth + 1);
    if (node.tag === APPEND_TAG && node.kind !== 'seq') {
      diags.error(loc, path, `${APPEND_TAG} applies to a list (it adds the items to the earlier list)`);
    }
    if (node.kind === 'map') {
      const entries = new Map<string, SourceEntry>();
      for (const pair of node.pairs) {
        const keyNode = pair.key;
        const keyLoc = keyNode ? at(keyNode.start) : loc;
        if (keyNode?.kind !== 'scalar' || (keyNode.value !== null && typeof keyNode.value === 'object')) {
          diags.error(keyLoc, path, 'a key must be a plain value, not a list or a map');
          continue;
        }
        const key = String(keyNode.value);
        if (key === '<<' && keyNode.style === 'plain') {
          diags.error(
            keyLoc,
            path,
            'YAML merge keys (<<) are not supported: repeat the keys, or move shared values to base/',
          );
          continue;
        }
        const childPath = depth === 0 ? rootPath(key) : joinPath(path, key);
        entries.set(key, { keyLoc, node: convert(pair.value, childPath, depth + 1) });
      }
      return { type: 'map', loc, entries };
    }
    if (node.kind === 'seq') {
      const items = node.items.map((item, i) => convert(item, joinPath(path, i), depth + 1));
      return { type: 'seq', loc, items, append: node.tag === APPEND_TAG };
    }
    return scalar(node, loc, path);
  };

  type ScalarTree = Extract<YamlTree, { kind: 'scalar' }>;
  const scalar = (node: ScalarTree, loc: SourceLocation, path: string): SourceNode => {
    const raw = node.value;
    if (typeof raw === 'string' && literal(path)) {
      const lines = textLines(node, raw);
      return { type: 'scalar', loc, value: raw, ...(lines ? { text: lines } : {}) };
    }
    if (typeof raw !== 'string' || !hasReference(raw)) return { type: 'scalar', loc, value: raw };
    try {
      const x = expand(raw, env);
      if (x.vars.length === 0) return { type: 'scalar', loc, value: x.value };
      if (x.unset.length) diags.warning(loc, path, unsetMessage(raw, x.whole, x.vars, x.unset));
      // An unquoted value that is one reference takes the type YAML would give the text: ${PORT:-8080} is a
      // number. The text is kept, so validation can go back to it where the schema wants text.
      const typed = x.value !== null && x.whole && node.style === 'plain' ? typedLikeYaml(x.value) : x.value;
      const origin: EnvOrigin = {
        raw,
        vars: x.vars,
        unset: x.unset,
        ...(typed !== x.value ? { text: x.value! } : {}),
      };
      return { type: 'scalar', loc, value: typed, env: origin };
    } catch (err) {
      if (!(err instanceof EnvSyntaxError)) throw err;
      const single = node.style === 'plain' && !raw.includes('\n');
      diags.error(single ? { ...loc, col: loc.col + err.offset } : loc, path, err.message);
      return { type: 'scalar', loc, value: null };
    }
  };

  // The first character of each line of `value` in the file, when the value is the file's text as is.
  const textLines = (node: ScalarTree, value: string): TextLines | undefined => {
    const { start, end, style } = node;
    if (style === 'plain' || style === 'single' || style === 'double') {
      const skip = style === 'plain' ? 0 : 1;
      return text.slice(start + skip, end - skip) === value ? [at(start + skip)] : undefined;
    }
    if (style !== 'literal') return undefined;
    // Each line of a literal block is a line of the file, after the block's indentation.
    const lines: SourceLocation[] = [];
    let pos = text.indexOf('\n', start) + 1;
    for (const line of value.split('\n')) {
      const found = line === '' ? pos : text.indexOf(line, pos);
      if (found < 0 || found > end) return undefined;
      lines.push(at(found));
      pos = text.indexOf('\n', found + line.length) + 1 || text.length;
    }
    return lines;
  };

  try {
    return convert(read.tree, '', 0);
  } catch (err) {
    if (!(err instanceof NestingError)) throw err;
    diags.error(
      err.loc,
      '',
      `values are nested more than 64 levels deep, or aliases expand to more than ${MAX_VALUES.toLocaleString('en')} values`,
    );
    return undefined;
  }
}

class NestingError extends Error {
  constructor(readonly loc: SourceLocation) {
    super('nesting');
  }
}

/** The warning for a value left null by unset variables: every variable of a chain of defaults is named. */
function unsetMessage(
  raw: string,
  whole: boolean,
  vars: readonly string[],
  unset: readonly string[],
): string {
  if (whole && vars.length > 1) {
    return `none of ${vars.join(', ')} is set (${raw}), so this value is null; set one of them, or end the chain with a default`;
  }
  const [first] = unset;
  return unset.length === 1
    ? `\${${first}} is not set, so this value is null; set ${first}, or give a default as \${${first}:-value}`
    : `${unset.join(', ')} are not set, so this value is null; set them, or give defaults as \${NAME:-value}`;
}

/** A number, boolean or null when YAML would read `text` as one; the text itself otherwise. */
function typedLikeYaml(text: string): unknown {
  if (text.trim() === '') return text;
  const v = typePlain(text.trim());
  return v === null || typeof v === 'number' || typeof v === 'boolean' ? v : text;
}

/** The 1-based line and column of an offset in `text`. */
function lineLocator(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  };
}

function yamlMessage(code: string, message: string, snippet: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate key '${snippet.trim()}' in one mapping: each key may appear once (remove or rename one)`;
    case 'TAB_AS_INDENT':
      return 'a tab is used for indentation: YAML allows only spaces there';
    default:
      return `malformed YAML: ${first}`;
  }
}
