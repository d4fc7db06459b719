// Where every merged value came from: the file:line:col that set it, the values it replaced, and the
// environment variables it was read through. Built once per load from the merged trees.
import type { MergedNode } from './merge.js';
import type { EnvOrigin } from './source.js';
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

/** Keys whose values are masked when they come from the environment. */
const SECRET_KEY = /key|token|secret|password/i;
export const MASK = '********';

export function isSecret(key: PathSegment, env: EnvOrigin | undefined): boolean {
  return env !== undefined && typeof key === 'string' && SECRET_KEY.test(key);
}

/** The provenance index of the merged trees, keyed by path string (kind first). */
export class Provenance {
  private readonly byPath = new Map<string, { loc: SourceLocation; keyLoc?: SourceLocation }>();
  readonly entries: ExplainEntry[] = [];
  /** Paths of values that came from the environment, with their origin. */
  readonly envPaths = new Map<string, EnvOrigin>();
  /** Paths of secrets read from the environment (masked in output). */
  readonly secretPaths = new Set<string>();

  constructor(trees: ReadonlyMap<string, MergedNode>) {
    for (const [kind, tree] of trees) this.walk(tree, kind, kind, undefined);
  }

  private walk(node: MergedNode, path: string, key: PathSegment, keyLoc: SourceLocation | undefined): void {
    // A mapping or list is located at its key (`tasks_by_status:`), where a reader looks for it.
    const loc = node.type !== 'scalar' && keyLoc ? keyLoc : node.loc;
    this.byPath.set(path, { loc, ...(keyLoc ? { keyLoc } : {}) });
    const env = node.type === 'scalar' ? node.env : undefined;
    const secret = isSecret(key, env);
    if (env) this.envPaths.set(path, env);
    if (secret) this.secretPaths.add(path);
    const leaf =
      node.type === 'scalar' || (node.type === 'map' ? node.entries.size === 0 : node.items.length === 0);
    if (leaf || node.overrode.length > 0) {
      const mask = (v: unknown, e: EnvOrigin | undefined) => (isSecret(key, e) && v !== null ? MASK : v);
      this.entries.push({
        path,
        value: leaf
          ? mask(node.type === 'scalar' ? node.value : node.type === 'map' ? {} : [], env)
          : undefined,
        setBy: node.loc,
        ...(env ? { env: { raw: env.raw, vars: env.vars, unset: env.unset } } : {}),
        overrode: node.overrode.map((o) => ({ value: mask(o.value, o.env), setBy: o.loc })),
      });
    }
    if (node.type === 'map')
      for (const [k, e] of node.entries) this.walk(e.node, joinPath(path, k), k, e.keyLoc);
    else if (node.type === 'seq') node.items.forEach((n, i) => this.walk(n, joinPath(path, i), i, undefined));
  }

  /** Where the value at `path` (or, with `key`, its key) was written; undefined if no file set it. */
  locate(path: string, key = false): SourceLocation | undefined {
    const p = this.byPath.get(path);
    return p && (key ? (p.keyLoc ?? p.loc) : p.loc);
  }
}
