// Where every merged value came from: the file:line:col that set it, the values it replaced, and the
// environment variables it was read through. Built once per load from the merged trees.
import type { MergedNode } from './merge.js';
import { locateInText, type EnvOrigin, type TextLines } from './source.js';
import { joinPath, type PathSegment } from './paths.js';
import type { SourceLocation } from './types.js';

/** One line of `config show --explain`: a leaf value and its history. */
export interface ExplainEntry {
  readonly path: string;
  /** The value (secrets read from the environment are masked). */
  readonly value: unknown;
  readonly setBy: SourceLocation;
  /** The environment variables the value was read through, if any. */
  readonly env?: {
    readonly raw: string;
    readonly vars: readonly string[];
    readonly unset: readonly string[];
  };
  /** Earlier values that later files replaced, oldest first (secrets masked). */
  readonly overrode: readonly { readonly value: unknown; readonly setBy: SourceLocation }[];
}

/** Keys whose values (and everything below them) are masked when they come from the environment. */
const SECRET_KEY = /key|token|secret|password/i;
export const MASK = '********';

/** True when a value under `key` (or below a secret-named key: `inSecret`) is a secret to mask. */
export function isSecretKey(key: PathSegment, inSecret: boolean): boolean {
  return inSecret || (typeof key === 'string' && SECRET_KEY.test(key));
}

// `scheme://user:password@host`: the password of a URL is never shown, wherever the URL came from.
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/i;

/** A value as `config show` may print it: URL passwords hidden. */
export function redactText(v: unknown): unknown {
  return typeof v === 'string' ? v.replace(URL_PASSWORD, `$1:${MASK}@`) : v;
}

/** The plain value of a merged node as it may be shown: secrets from the environment masked, URL passwords hidden. */
export function displayValue(node: MergedNode, inSecret: boolean): unknown {
  switch (node.type) {
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) out[k] = displayValue(e.node, isSecretKey(k, inSecret));
      return out;
    }
    case 'seq':
      return node.items.map((n) => displayValue(n, inSecret));
    case 'scalar':
      return node.env && inSecret && node.value !== null ? MASK : redactText(node.value);
  }
}

/** Where the values of one kind were written, keyed by path string (kind first). */
interface KindIndex {
  readonly byPath: Map<
    string,
    { loc: SourceLocation; keyLoc?: SourceLocation; text?: { value: string; lines: TextLines } }
  >;
  readonly envPaths: Map<string, EnvOrigin>;
  readonly secretPaths: Set<string>;
}

/** The kind a path starts with (`queries` in `queries.queries.by_status`). */
function kindOf(path: string): string {
  return /^[^.[]*/.exec(path)![0];
}

/** The provenance index of the merged trees, keyed by path string (kind first). */
export class Provenance {
  // Each kind's index is built on first use: a load that finds no problem may never ask where a
  // value of its largest kind is.
  private readonly indexes = new Map<string, KindIndex>();
  private explained: ExplainEntry[] | undefined;

  constructor(private readonly trees: ReadonlyMap<string, MergedNode>) {}

  private index(kind: string): KindIndex | undefined {
    let index = this.indexes.get(kind);
    const tree = this.trees.get(kind);
    if (!index && tree) {
      index = { byPath: new Map(), envPaths: new Map(), secretPaths: new Set() };
      this.walk(index, tree, kind, false, undefined);
      this.indexes.set(kind, index);
    }
    return index;
  }

  /** How the value at `path` was read through the environment, if it was. */
  envOf(path: string): EnvOrigin | undefined {
    return this.index(kindOf(path))?.envPaths.get(path);
  }

  /** True for a secret read from the environment (masked in output). */
  isSecret(path: string): boolean {
    return this.index(kindOf(path))?.secretPaths.has(path) ?? false;
  }

  /** One entry per leaf and per overridden value, for `explain`: built on first use, not at every load. */
  get entries(): readonly ExplainEntry[] {
    if (!this.explained) {
      this.explained = [];
      for (const [kind, tree] of this.trees) this.explain(tree, kind, false, this.explained);
    }
    return this.explained;
  }

  private walk(
    index: KindIndex,
    node: MergedNode,
    path: string,
    inSecret: boolean,
    keyLoc: SourceLocation | undefined,
  ): void {
    // A mapping or list is located at its key (`tasks_by_status:`), where a reader looks for it.
    const loc = node.type !== 'scalar' && keyLoc ? keyLoc : node.loc;
    const text =
      node.type === 'scalar' && node.text && typeof node.value === 'string'
        ? { text: { value: node.value, lines: node.text } }
        : {};
    index.byPath.set(path, { loc, ...(keyLoc ? { keyLoc } : {}), ...text });
    const env = node.type === 'scalar' ? node.env : undefined;
    if (env) index.envPaths.set(path, env);
    if (env && inSecret) index.secretPaths.add(path);
    if (node.type === 'map') {
      for (const [k, e] of node.entries)
        this.walk(index, e.node, joinPath(path, k), isSecretKey(k, inSecret), e.keyLoc);
    } else if (node.type === 'seq')
      node.items.forEach((n, i) => this.walk(index, n, joinPath(path, i), inSecret, undefined));
  }

  private explain(node: MergedNode, path: string, inSecret: boolean, out: ExplainEntry[]): void {
    const env = node.type === 'scalar' ? node.env : undefined;
    const leaf =
      node.type === 'scalar' || (node.type === 'map' ? node.entries.size === 0 : node.items.length === 0);
    const overrode = node.overrode ?? [];
    if (leaf || overrode.length > 0) {
      out.push({
        path,
        value: leaf ? displayValue(node, inSecret) : undefined,
        setBy: node.loc,
        ...(env ? { env: { raw: env.raw, vars: env.vars, unset: env.unset } } : {}),
        overrode: overrode.map((o) => ({ value: displayValue(o.node, inSecret), setBy: o.loc })),
      });
    }
    if (node.type === 'map') {
      for (const [k, e] of node.entries)
        this.explain(e.node, joinPath(path, k), isSecretKey(k, inSecret), out);
    } else if (node.type === 'seq')
      node.items.forEach((n, i) => this.explain(n, joinPath(path, i), inSecret, out));
  }

  /** Where the value at `path` (or, with `key`, its key) was written; undefined if no file set it. */
  locate(path: string, key = false): SourceLocation | undefined {
    const p = this.index(kindOf(path))?.byPath.get(path);
    return p && (key ? (p.keyLoc ?? p.loc) : p.loc);
  }

  /**
   * Where character `offset` of the string at `path` was written (a YAML workflow's template); the
   * value's own location when its characters cannot be mapped (a folded or escaped string).
   */
  locateChar(path: string, offset: number): SourceLocation | undefined {
    const p = this.index(kindOf(path))?.byPath.get(path);
    if (!p) return undefined;
    return (p.text && locateInText(p.text.value, p.text.lines, offset)) ?? p.loc;
  }
}
