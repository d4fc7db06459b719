// Reads YAML text into a syntax tree that keeps each node's offset in the text.
//
// Two readers, one meaning (decision 0024): js-yaml's event parser reads the common document
// (plain maps, lists and scalars, anchors, the !append tag) about ten times faster than `yaml`;
// `yaml` reads everything else (every document with an error, a directive, another tag, a
// duplicate or complex key) and is the only source of error messages. Plain scalars are typed by
// `yaml`'s own core-schema tags on both paths, so the two agree on what `0o17` or `~` mean.
import {
  COLLECTION_STYLE,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import { Schema, isAlias, isMap, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { Document, Node as YamlNode, ScalarTag } from 'yaml';

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

export type YamlTree =
  | { readonly kind: 'map'; readonly start: number; readonly tag?: string; readonly pairs: YamlPair[] }
  | { readonly kind: 'seq'; readonly start: number; readonly tag?: string; readonly items: YamlTree[] }
  | {
      readonly kind: 'scalar';
      readonly start: number;
      /** The end of the value's text (after a closing quote), for locating characters inside it. */
      readonly end: number;
      readonly tag?: string;
      readonly style: ScalarStyle;
      readonly value: unknown;
    }
  | { readonly kind: 'alias'; readonly start: number; readonly target: YamlTree | null };

export interface YamlPair {
  readonly key: YamlTree | null;
  readonly value: YamlTree | null;
}

export interface YamlProblem {
  readonly offset: number;
  readonly code: string;
  readonly message: string;
}

export interface YamlRead {
  /** Undefined for a document with errors, and for an empty one (nothing but comments). */
  readonly tree: YamlTree | undefined;
  readonly errors: readonly YamlProblem[];
  readonly warnings: readonly YamlProblem[];
}

/** The one tag Baton's configuration gives a meaning to (a list in a later file adds to the earlier one). */
export const APPEND_TAG = '!append';

/** Reads `text`: through the fast reader when it can, through `yaml` otherwise. */
export function readYaml(text: string): YamlRead {
  const tree = readWithJsYaml(text);
  return tree ? { tree, errors: [], warnings: [] } : readWithYaml(text);
}

// ---- the fast reader: js-yaml's events ----

/** Thrown inside the fast reader for anything it leaves to `yaml`. */
class NotFast extends Error {}

/** `yaml`'s core-schema tags that type a plain scalar by its text (null, bool, int, float). */
const PLAIN_TAGS = new Schema({ schema: 'core' }).tags.filter(
  (t): t is ScalarTag => t.default === true && 'test' in t && t.test instanceof RegExp,
);

/** What `yaml` makes of a plain scalar's text. */
export function typePlain(text: string): unknown {
  for (const tag of PLAIN_TAGS) {
    if (!tag.test!.test(text)) continue;
    const v = tag.resolve(text, () => {}, {});
    return isScalar(v) ? v.value : v;
  }
  return text;
}

const STYLES: Record<number, ScalarStyle> = {
  1: 'plain',
  2: 'single',
  3: 'double',
  4: 'literal',
  5: 'folded',
};

export function readWithJsYaml(text: string): YamlTree | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined; // malformed: `yaml` says what is wrong
  }
  const docs = events.filter((e) => e.type === EVENT_ID.DOCUMENT);
  if (docs.length !== 1 || docs[0]!.directives.length > 0) return undefined;
  const anchors = new Map<string, YamlTree>();
  let i = 1; // after the document event
  let cursor = 0; // just past the last thing read, where an empty value's place is looked for

  const tagOf = (e: { tagStart: number; tagEnd: number }): string | undefined => {
    if (e.tagStart < 0) return undefined;
    const tag = text.slice(e.tagStart, e.tagEnd);
    if (tag !== APPEND_TAG) throw new NotFast();
    return tag;
  };
  const anchor = (e: { anchorStart: number; anchorEnd: number }, node: YamlTree): void => {
    if (e.anchorStart >= 0) anchors.set(text.slice(e.anchorStart, e.anchorEnd), node);
  };

  const scalar = (e: ScalarEvent): YamlTree => {
    const style = STYLES[e.style]!;
    const tag = tagOf(e);
    if (e.valueStart < 0) {
      // An empty value (`key:` and nothing after it) is null, at the place it would be.
      const props = Math.max(e.tagEnd, e.anchorEnd);
      cursor = props >= 0 ? skipSpaces(text, props) : emptyValueAt(text, cursor);
      return { kind: 'scalar', start: cursor, end: cursor, style, value: null, ...(tag ? { tag } : {}) };
    }
    const raw = e.fast ? text.slice(e.valueStart, e.valueEnd) : getScalarValue(text, e);
    const value = style === 'plain' && !tag ? typePlain(raw) : raw;
    const quoted = style === 'single' || style === 'double';
    const block = style === 'literal' || style === 'folded';
    // A node starts at its first character: a quote, or a block scalar's `|`/`>` header.
    const start = quoted ? e.valueStart - 1 : block ? blockHeader(text, e.valueStart) : e.valueStart;
    const end = quoted ? e.valueEnd + 1 : e.valueEnd;
    cursor = end;
    return { kind: 'scalar', start, end, style, value, ...(tag ? { tag } : {}) };
  };

  const node = (): YamlTree => {
    const e = events[i++];
    if (!e) throw new NotFast();
    switch (e.type) {
      case EVENT_ID.SCALAR: {
        const n = scalar(e);
        anchor(e, n);
        return n;
      }
      case EVENT_ID.ALIAS: {
        const target = anchors.get(text.slice(e.anchorStart, e.anchorEnd));
        if (!target) throw new NotFast();
        cursor = e.anchorEnd;
        return { kind: 'alias', start: e.anchorStart - 1, target };
      }
      case EVENT_ID.SEQUENCE: {
        const tag = tagOf(e);
        const items: YamlTree[] = [];
        cursor = e.style === COLLECTION_STYLE.FLOW ? e.start + 1 : e.start;
        const n: YamlTree = { kind: 'seq', start: e.start, items, ...(tag ? { tag } : {}) };
        anchor(e, n);
        while (events[i]?.type !== EVENT_ID.POP) items.push(node());
        i++;
        if (e.style === COLLECTION_STYLE.FLOW) cursor = pastFlowEnd(text, cursor);
        return n;
      }
      case EVENT_ID.MAPPING: {
        const tag = tagOf(e);
        const pairs: YamlPair[] = [];
        cursor = e.style === COLLECTION_STYLE.FLOW ? e.start + 1 : e.start;
        const n: YamlTree = { kind: 'map', start: e.start, pairs, ...(tag ? { tag } : {}) };
        anchor(e, n);
        const seen = new Set<unknown>();
        while (events[i]?.type !== EVENT_ID.POP) {
          const key = node();
          // Duplicate, complex and overlong keys are errors `yaml` words best.
          if (key.kind !== 'scalar' || seen.has(key.value) || key.end - key.start > 1024) throw new NotFast();
          if (explicitKey(text, key.start)) throw new NotFast(); // `? key`: yaml may give it no value node
          seen.add(key.value);
          pairs.push({ key, value: node() });
        }
        i++;
        if (e.style === COLLECTION_STYLE.FLOW) cursor = pastFlowEnd(text, cursor);
        return n;
      }
      default:
        throw new NotFast();
    }
  };

  try {
    const root = node();
    if (events[i]?.type !== EVENT_ID.POP || i + 1 !== events.length) return undefined;
    return root;
  } catch (err) {
    if (err instanceof NotFast) return undefined;
    throw err;
  }
}

function skipSpaces(text: string, from: number): number {
  let p = from;
  while (text[p] === ' ' || text[p] === '\t') p++;
  return p;
}

/** Past the blank lines and comments from `from`. */
function skipBlank(text: string, from: number): number {
  let p = from;
  for (;;) {
    const c = text[p];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') p++;
    else if (c === '#') p = text.indexOf('\n', p) < 0 ? text.length : text.indexOf('\n', p);
    else return p;
  }
}

/** Past the `]` or `}` that closes the flow collection whose last item ended at `from`. */
function pastFlowEnd(text: string, from: number): number {
  let p = skipBlank(text, from);
  if (text[p] === ',') p = skipBlank(text, p + 1);
  if (text[p] !== ']' && text[p] !== '}') throw new NotFast();
  return p + 1;
}

/** True when the key starting at `start` is written after a `?` indicator. */
function explicitKey(text: string, start: number): boolean {
  let q = start - 1;
  while (text[q] === ' ' || text[q] === '\t') q--;
  return text[q] === '?';
}

/**
 * Where `yaml` places an empty value: past the blank lines and comments after `from`, past the
 * indicator that introduces the value (`:`, `-`, `?`), and past its spaces.
 */
function emptyValueAt(text: string, from: number): number {
  let p = skipBlank(text, from);
  if (text[p] === ':' || text[p] === '-' || text[p] === '?') p++;
  return skipSpaces(text, p);
}

/** The offset of the `|` or `>` that opens the block scalar whose content starts at `content`. */
function blockHeader(text: string, content: number): number {
  const lineEnd = text.lastIndexOf('\n', content - 1);
  const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
  const header = /[|>][1-9+-]{0,2}[ \t]*(?:#.*)?$/.exec(text.slice(lineStart, lineEnd));
  if (!header) throw new NotFast();
  return lineStart + header.index;
}

// ---- the authoritative reader: `yaml` ----

export function readWithYaml(text: string): YamlRead {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, merge: false });
  const problems = (list: typeof doc.errors): YamlProblem[] =>
    list.map((e) => ({ offset: e.pos[0], code: e.code, message: e.message }));
  const errors = problems(doc.errors);
  const warnings = problems(doc.warnings);
  if (errors.length > 0 || doc.contents === null) return { tree: undefined, errors, warnings };

  // Each node becomes one tree node, so an alias shares its anchor's (expanding them is the caller's,
  // which caps the count).
  const seen = new Map<YamlNode, YamlTree>();
  const tree = (node: YamlNode | null): YamlTree | null => {
    if (node === null) return null;
    const known = seen.get(node);
    if (known) return known;
    const start = node.range?.[0] ?? 0;
    const tag = node.tag ? { tag: node.tag } : {};
    if (isAlias(node)) {
      const target = node.resolve(doc as Document) ?? null;
      const n: YamlTree = { kind: 'alias', start, target: null };
      seen.set(node, n);
      (n as { target: YamlTree | null }).target = tree(target);
      return n;
    }
    if (isMap(node)) {
      const pairs: YamlPair[] = [];
      seen.set(node, { kind: 'map', start, pairs, ...tag });
      for (const p of node.items)
        pairs.push({ key: tree(p.key as YamlNode | null), value: tree(p.value as YamlNode | null) });
      return seen.get(node)!;
    }
    if (isSeq(node)) {
      const items: YamlTree[] = [];
      seen.set(node, { kind: 'seq', start, items, ...tag });
      for (const item of node.items) items.push(tree(item as YamlNode | null) ?? nullAt(start));
      return seen.get(node)!;
    }
    const s = node as Scalar;
    const n: YamlTree = {
      kind: 'scalar',
      start,
      end: s.range?.[1] ?? start,
      style: styleOf(s.type),
      value: s.value,
      ...tag,
    };
    seen.set(node, n);
    return n;
  };
  return { tree: tree(doc.contents as YamlNode) ?? undefined, errors, warnings };
}

function nullAt(offset: number): YamlTree {
  return { kind: 'scalar', start: offset, end: offset, style: 'plain', value: null };
}

function styleOf(type: Scalar['type']): ScalarStyle {
  switch (type) {
    case Scalar.QUOTE_SINGLE:
      return 'single';
    case Scalar.QUOTE_DOUBLE:
      return 'double';
    case Scalar.BLOCK_LITERAL:
      return 'literal';
    case Scalar.BLOCK_FOLDED:
      return 'folded';
    default:
      return 'plain';
  }
}
