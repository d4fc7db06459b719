// Merges the source trees of several files into one tree per kind, remembering for every value the
// file that set it and the values it replaced. Rules (docs/config.md): maps merge deeply, a later
// value replaces an earlier one, lists replace unless tagged `!append`, and `null` in a later file
// removes the key.
import type { SourceNode } from './source.js';
import type { SourceLocation } from './types.js';

/** A value that a later file replaced, kept whole so that showing it can mask its secrets. */
export interface Overridden {
  readonly loc: SourceLocation;
  readonly node: MergedNode;
}

/**
 * A merged node is a source node that may carry the values it replaced. The first file to set a
 * value gives its node as is (no copy: a source tree is read for one load and merged at once), and
 * later files change it in place.
 */
export type MergedNode = SourceNode & { readonly overrode?: readonly Overridden[] };

/** `over` laid on `base`: the merged node, or undefined when `over` removes it (a later `null`). */
export function mergeNode(base: MergedNode | undefined, over: SourceNode): MergedNode | undefined {
  if (base === undefined) return over;
  if (over.type === 'scalar' && over.value === null && over.env === undefined) return undefined;
  if (over.type === 'map' && base.type === 'map') {
    for (const [key, entry] of over.entries) {
      const merged = mergeNode(base.entries.get(key)?.node, entry.node);
      if (merged === undefined) base.entries.delete(key);
      else base.entries.set(key, { keyLoc: entry.keyLoc, node: merged });
    }
    return base;
  }
  if (over.type === 'seq' && over.append && base.type === 'seq') {
    base.items.push(...over.items);
    return base;
  }
  return { ...over, overrode: [...(base.overrode ?? []), { loc: base.loc, node: base }] };
}

/** The plain JavaScript value of a merged node (what the schemas validate). */
export function toPlain(node: MergedNode): unknown {
  switch (node.type) {
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) out[k] = toPlain(e.node);
      return out;
    }
    case 'seq':
      return node.items.map(toPlain);
    case 'scalar':
      return node.value;
  }
}
