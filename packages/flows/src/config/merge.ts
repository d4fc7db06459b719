// Merges the source trees of several files into one tree per kind, remembering for every value the
// file that set it and the values it replaced. Rules (docs/config.md): maps merge deeply, a later
// value replaces an earlier one, lists replace unless tagged `!append`, and `null` in a later file
// removes the key.
import type { EnvOrigin, SourceNode, TextLines } from './source.js';
import type { SourceLocation } from './types.js';

/** A value that a later file replaced, kept whole so that showing it can mask its secrets. */
export interface Overridden {
  readonly loc: SourceLocation;
  readonly node: MergedNode;
}

export type MergedNode = (
  | { type: 'map'; entries: Map<string, MergedEntry> }
  | { type: 'seq'; items: MergedNode[] }
  | { type: 'scalar'; value: unknown; env?: EnvOrigin; text?: TextLines }
) & { loc: SourceLocation; overrode: Overridden[] };

export interface MergedEntry {
  keyLoc: SourceLocation;
  node: MergedNode;
}

/** `over` laid on `base`: the merged node, or undefined when `over` removes it (a later `null`). */
export function mergeNode(base: MergedNode | undefined, over: SourceNode): MergedNode | undefined {
  if (base === undefined) return fromSource(over);
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
    base.items.push(...over.items.map(fromSource));
    return base;
  }
  const replaced = fromSource(over);
  replaced.overrode = [...base.overrode, { loc: base.loc, node: base }];
  return replaced;
}

/** A fresh merged node for a source node (first definition). */
export function fromSource(node: SourceNode): MergedNode {
  switch (node.type) {
    case 'map': {
      const entries = new Map<string, MergedEntry>();
      for (const [k, e] of node.entries) entries.set(k, { keyLoc: e.keyLoc, node: fromSource(e.node) });
      return { type: 'map', entries, loc: node.loc, overrode: [] };
    }
    case 'seq':
      return { type: 'seq', items: node.items.map(fromSource), loc: node.loc, overrode: [] };
    case 'scalar':
      return {
        type: 'scalar',
        value: node.value,
        ...(node.env ? { env: node.env } : {}),
        ...(node.text ? { text: node.text } : {}),
        loc: node.loc,
        overrode: [],
      };
  }
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
