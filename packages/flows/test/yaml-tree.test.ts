// The two YAML readers of config/yaml-tree.ts must agree: the fast one (js-yaml's events) on every
// document it accepts, with the same values, styles, tags and offsets as `yaml`; and every document
// it does not accept goes to `yaml`, which alone words errors.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readWithJsYaml, readWithYaml, readYaml, type YamlTree } from '../src/config/yaml-tree.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** A tree as plain data; a block scalar's end is left out (the readers stop at different newlines). */
function shape(t: YamlTree | null, depth = 0): unknown {
  if (t === null || depth > 20) return null;
  switch (t.kind) {
    case 'alias':
      return { alias: t.start, target: shape(t.target, depth + 1) };
    case 'map':
      return {
        map: t.start,
        tag: t.tag,
        pairs: t.pairs.map((p) => [shape(p.key, depth + 1), shape(p.value, depth + 1)]),
      };
    case 'seq':
      return { seq: t.start, tag: t.tag, items: t.items.map((i) => shape(i, depth + 1)) };
    default: {
      const block = t.style === 'literal' || t.style === 'folded';
      return {
        scalar: t.value,
        start: t.start,
        style: t.style,
        tag: t.tag,
        ...(block ? {} : { end: t.end }),
      };
    }
  }
}

function bothAgree(text: string): void {
  const fast = readWithJsYaml(text);
  expect(fast, 'the fast reader takes this document').toBeDefined();
  const strict = readWithYaml(text);
  expect(strict.errors).toEqual([]);
  expect(shape(fast!)).toEqual(shape(strict.tree ?? null));
}

describe('the fast YAML reader agrees with yaml', () => {
  const files = [...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'packages'))];

  it('finds the project’s YAML files', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    it(`reads ${file.slice(ROOT.length)} as yaml does`, () => {
      const text = readFileSync(file, 'utf8');
      const strict = readWithYaml(text);
      // Test fixtures of bad input are yaml's to read; every other file must take the fast path.
      if (strict.errors.length > 0 || strict.warnings.length > 0) {
        expect(readWithJsYaml(text)).toBeUndefined();
        return;
      }
      bothAgree(text);
    });
  }

  it('types plain scalars as yaml’s core schema does, and keeps quoted ones as text', () => {
    bothAgree(
      [
        'ints: [0, -12, +7, 0o17, 0x1F, 012, 1_000]',
        'floats: [1.5, -0.25, 1e3, 6.02E+23, .inf, -.Inf, .NaN, 1.]',
        'nulls: [~, null, Null, NULL, ""]',
        'bools: [true, True, TRUE, false, yes, no, on, off]',
        'dates: [2024-01-01, 2024-01-01T10:00:00Z]',
        "quoted: ['1', \"true\", 'null', \"0x1F\", 'it''s', \"tab\\tnew\\nline\"]",
        'empty:',
        'spaced:    padded   # a comment',
        'multi: this plain',
        '  scalar folds',
        'literal: |',
        '  line one',
        '    indented',
        'folded: >-',
        '  folded',
        '  text',
        'keep: |+',
        '  kept',
        '',
        'anchored: &a {x: 1, y: [2, 3]}',
        'aliased: *a',
        'scalar_anchor: &s 42',
        'scalar_alias: *s',
        'appended: !append [4, 5]',
        '"quoted key": 1',
        "'single key': 2",
        '123: number key',
        'nested:',
        '  - a: 1',
        '    b: [1, {c: d}]',
        '  -',
        '  - - deep',
        '    - list',
      ].join('\n') + '\n',
    );
  });

  it('reads as yaml does the odd documents both accept', () => {
    for (const text of [
      'a: 1\n  - b\n',
      '[1, 2, ]\n',
      '- - a\n  - b\n',
      "'a' : 1\n",
      'a :1\n',
      '---\na: 1\n...\n',
      'a: # comment\nb:   \n',
      '- \n-\n- a:\n  b:\n',
      '{a: , b: 1}\n',
      'a: &x\nb: *x\n',
      'a:\t1\n',
      'a: []\nb: {}\nc: &x 1\nd: [*x]\ne: {f: [*x], g: }\nh:\n',
    ])
      bothAgree(text);
  });

  it('leaves to yaml every document it does not read the same way', () => {
    const cases: Record<string, string> = {
      'a duplicate key': 'a: 1\nb: 2\na: 3\n',
      'a tag other than !append': 'a: !!str 12\nb: !custom x\n',
      'a directive': '%YAML 1.1\n---\na: yes\n',
      'two documents': 'a: 1\n---\nb: 2\n',
      'a complex key': '? [a, b]\n: 1\n',
      'an explicit key': '? a\n',
      'an unknown alias': 'a: *nowhere\n',
      'malformed text': 'a: [1, 2\nb: 3\n',
      'a tab as indentation': 'a:\n\tb: 1\n',
      'an implicit key over 1024 characters': `${'k'.repeat(1100)}: 1\n`,
    };
    for (const [what, text] of Object.entries(cases)) {
      expect(readWithJsYaml(text), what).toBeUndefined();
      const read = readYaml(text);
      expect(read, what).toEqual(readWithYaml(text));
    }
    expect(readYaml('a: 1\na: 2\n').errors[0]).toMatchObject({ code: 'DUPLICATE_KEY', offset: 5 });
    expect(readYaml('a: [1, 2\nb: 3\n').errors.length).toBeGreaterThan(0);
  });

  it('reads a document of nothing but comments as empty, without an error', () => {
    const read = readYaml('# nothing here\n\n# at all\n');
    expect(read.tree).toBeUndefined();
    expect(read.errors).toEqual([]);
  });

  it('shares an anchor’s node between its aliases instead of copying it', () => {
    const tree = readWithJsYaml('a: &x [1, 2]\nb: *x\nc: *x\n');
    expect(tree?.kind).toBe('map');
    const [, b, c] = (tree as Extract<YamlTree, { kind: 'map' }>).pairs.map((p) => p.value);
    expect(b?.kind === 'alias' && c?.kind === 'alias' && b.target === c.target).toBe(true);
  });
});
