// The facts of a project's files, and what ranking derives from them: document frequencies, who
// declares which name, and the import graph (an import resolved to a file of the project is an
// edge; a package import resolves into the package's directory when its package.json is indexed).
import { posix } from 'node:path';
import type { FileFacts } from './extract.js';

const SCRIPT_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
const PACKAGE_ENTRIES = ['src/index.ts', 'src/index.tsx', 'index.ts', 'src/index.js', 'index.js'];

export class ProjectIndex {
  private readonly byPath = new Map<string, FileFacts>();
  private derived: Derived | undefined;

  get size(): number {
    return this.byPath.size;
  }

  paths(): IterableIterator<string> {
    return this.byPath.keys();
  }

  get(path: string): FileFacts | undefined {
    return this.byPath.get(path);
  }

  files(): IterableIterator<FileFacts> {
    return this.byPath.values();
  }

  put(facts: FileFacts): void {
    this.byPath.set(facts.path, facts);
    this.derived = undefined;
  }

  remove(path: string): void {
    if (this.byPath.delete(path)) this.derived = undefined;
  }

  /** In how many files each term appears. */
  documentFrequency(): ReadonlyMap<string, number> {
    return this.derive().df;
  }

  /** The mean weighted length of a file (BM25's avgdl). */
  meanLength(): number {
    return this.derive().meanLength;
  }

  /** The files that declare `symbol` (exact name). */
  declaring(symbol: string): readonly string[] {
    return this.derive().declared.get(symbol) ?? [];
  }

  /** Each file's neighbours in the import graph, both directions. */
  neighbours(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.derive().graph;
  }

  /** The files `path` imports, resolved within the project. */
  importsOf(path: string): string[] {
    const f = this.byPath.get(path);
    if (!f) return [];
    const packages = this.derive().packages;
    return f.imports.map((s) => this.resolve(path, s, packages)).filter((p): p is string => p !== undefined);
  }

  private derive(): Derived {
    if (this.derived) return this.derived;
    const df = new Map<string, number>();
    const declared = new Map<string, string[]>();
    const packages = new Map<string, string>();
    let total = 0;
    for (const f of this.byPath.values()) {
      total += f.length;
      for (const t of Object.keys(f.terms)) df.set(t, (df.get(t) ?? 0) + 1);
      for (const s of f.symbols) {
        const list = declared.get(s);
        if (list) list.push(f.path);
        else declared.set(s, [f.path]);
      }
      if (f.packageName) packages.set(f.packageName, posix.dirname(f.path));
    }
    const graph = new Map<string, Set<string>>();
    const link = (a: string, b: string) => {
      if (a === b) return;
      let s = graph.get(a);
      if (!s) graph.set(a, (s = new Set()));
      s.add(b);
    };
    for (const f of this.byPath.values()) {
      for (const spec of f.imports) {
        const target = this.resolve(f.path, spec, packages);
        if (target) {
          link(f.path, target);
          link(target, f.path);
        }
      }
    }
    this.derived = {
      df,
      declared,
      packages,
      graph,
      meanLength: this.byPath.size ? total / this.byPath.size : 0,
    };
    return this.derived;
  }

  /** The project file an import names, if any. */
  private resolve(from: string, spec: string, packages: ReadonlyMap<string, string>): string | undefined {
    const f = this.byPath.get(from);
    if (!f) return undefined;
    if (f.lang === 'python') return this.resolvePython(from, spec);
    if (spec.startsWith('.')) return this.resolveScript(posix.join(posix.dirname(from), spec));
    const dir = packages.get(spec);
    if (dir === undefined) return undefined;
    for (const entry of PACKAGE_ENTRIES) {
      const p = posix.join(dir, entry);
      if (this.byPath.has(p)) return p;
    }
    return undefined;
  }

  private resolveScript(base: string): string | undefined {
    if (this.byPath.has(base)) return base;
    // TypeScript's ESM style imports './x.js' for './x.ts'.
    const stem = base.replace(/\.(m|c)?jsx?$/, '');
    for (const ext of SCRIPT_EXTENSIONS) if (this.byPath.has(stem + ext)) return stem + ext;
    for (const ext of SCRIPT_EXTENSIONS) {
      const index = posix.join(base, `index${ext}`);
      if (this.byPath.has(index)) return index;
    }
    return undefined;
  }

  private resolvePython(from: string, spec: string): string | undefined {
    const dots = /^\.*/.exec(spec)![0].length;
    const rel = spec.slice(dots).replace(/\./g, '/');
    const bases =
      dots > 0
        ? [posix.join(posix.dirname(from), ...Array<string>(dots - 1).fill('..'))]
        : ['', posix.dirname(from)];
    for (const base of bases) {
      for (const p of [`${rel}.py`, `${rel}/__init__.py`]) {
        const candidate = posix.join(base, p);
        if (this.byPath.has(candidate)) return candidate;
      }
    }
    return undefined;
  }
}

interface Derived {
  df: Map<string, number>;
  declared: Map<string, string[]>;
  packages: Map<string, string>;
  graph: Map<string, Set<string>>;
  meanLength: number;
}
