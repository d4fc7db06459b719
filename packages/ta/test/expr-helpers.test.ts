// Indexing, case-insensitive keywords, parenthesised tuples and the scalar helpers: what YAML
// workflows' templates and conditions need (docs/expressions.md, "Rules: indexing and helpers").
import { describe, expect, it } from 'vitest';
import { TaError } from '../src/errors.js';
import {
  catalogOf,
  compileExpression,
  evaluateCondition,
  evaluateRule,
  evaluateSeries,
} from '../src/expr/index.js';
import { getIndicator } from '../src/registry.js';

function err(f: () => unknown): TaError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TaError);
    return e as TaError;
  }
  throw new Error('expected an error');
}

const ctx = {
  steps: { create_task: { id: 7, status: 'pending', type: 'bug_fix', tags: ['a', 'b', 'c'] } },
  config: {
    sla_rules: { bug_fix: { target_minutes: 30 }, default: { target_minutes: 60 } },
    'odd.key': 1,
  },
  list: [10, 20, 30],
  name: 'Ada Lovelace',
  missing: null,
};

describe('indexing', () => {
  it('reads an object field by a computed key, as the seed writes it', () => {
    expect(evaluateRule('config.sla_rules[steps.create_task.type].target_minutes', ctx)).toBe(30);
    expect(evaluateRule("config['odd.key']", ctx)).toBe(1);
  });

  it('reads list items by position, negative from the end, null out of range', () => {
    expect(evaluateRule('list[0]', ctx)).toBe(10);
    expect(evaluateRule('list[-1]', ctx)).toBe(30);
    expect(evaluateRule('list[3]', ctx)).toBeNull();
    expect(evaluateRule('steps.create_task.tags[1]', ctx)).toBe('b');
    expect(evaluateRule('[1, 2, 3][1 + 1]', ctx)).toBe(3);
  });

  it('gives null for a missing field and never reaches a prototype', () => {
    expect(evaluateRule("config.sla_rules['deploy']", ctx)).toBeNull();
    expect(evaluateRule("config['constructor']", ctx)).toBeNull();
    expect(evaluateRule("config['__proto__']", ctx)).toBeNull();
  });

  it('refuses indexes of the wrong kind, with a position', () => {
    expect(err(() => evaluateRule("list['a']", ctx)).message).toMatch(
      /a list is indexed by a whole number, got a string at 1:1/,
    );
    expect(err(() => evaluateRule('list[1.5]', ctx)).message).toMatch(/whole number, got a number \(1.5\)/);
    expect(err(() => evaluateRule('config[1]', ctx)).message).toMatch(/an object is indexed by a string/);
    expect(err(() => evaluateRule('name[0]', ctx)).message).toMatch(/cannot index a string/);
    expect(err(() => evaluateRule('missing[0]', ctx)).message).toMatch(/cannot index null/);
    expect(err(() => compileExpression("'abc'[0]")).code).toBe('E_TYPE');
    expect(err(() => compileExpression('list[')).code).toBe('E_PARSE');
    expect(err(() => evaluateSeries('close[1]', { close: new Float64Array(3) })).message).toMatch(
      /cannot index a series/,
    );
  });
});

describe('keywords in any case, and tuples', () => {
  it('reads the seed condition written SQL-style', () => {
    const src = "steps.create_task.status NOT IN ('completed', 'failed')";
    expect(evaluateCondition(src, ctx)).toBe(true);
    const done = { steps: { create_task: { status: 'failed' } } };
    expect(evaluateCondition(src, done)).toBe(false);
  });

  it('means the same as the lower-case form with a list', () => {
    const a = compileExpression("s NOT IN ('x', 'y') AND NOT flag OR v == NULL");
    const b = compileExpression("s not in ['x', 'y'] and not flag or v == null");
    for (const c of [
      { s: 'x', flag: false, v: 1 },
      { s: 'z', flag: false, v: 1 },
      { s: 'z', flag: true, v: null },
    ]) {
      expect(a.evaluate({ context: c })).toBe(b.evaluate({ context: c }));
    }
    expect(evaluateRule('TRUE and False', {})).toBe(false);
  });

  it('keeps parentheses as grouping, and a trailing comma makes a one-item tuple', () => {
    expect(evaluateRule('(1 + 2) * 3', {})).toBe(9);
    expect(evaluateRule("('a',)", {})).toEqual(['a']);
    expect(evaluateRule("('a', 'b',)", {})).toEqual(['a', 'b']);
    expect(err(() => compileExpression('(1, 2')).message).toMatch(/expected '\)' to close the '\(' at 1:1/);
  });

  it('keeps names case-sensitive', () => {
    expect(err(() => evaluateRule('Name', ctx)).message).toMatch(/unknown name 'Name'.*did you mean 'name'/);
  });
});

describe('scalar helpers', () => {
  const cases: [string, unknown][] = [
    ['abs(-3.5)', 3.5],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(1.005, 2)', 1.01],
    ['min(3, 1, 2)', 1],
    ['max([3, 1, 2])', 3],
    ['len(name)', 12],
    ['len(list)', 3],
    ['len(config.sla_rules)', 2],
    ['lower(name)', 'ada lovelace'],
    ['upper(steps.create_task.type)', 'BUG_FIX'],
    ["contains(name, 'Love')", true],
    ['contains(list, 20)', true],
    ['contains(list, 25)', false],
    ["starts_with(name, 'Ada')", true],
    ["coalesce(missing, steps.nothing, 'fallback')", 'fallback'],
    ['coalesce(missing)', null],
    ['ABS(-1)', 1],
  ];
  it.each(cases)('%s', (src, want) => {
    expect(evaluateRule(src, { ...ctx, steps: { ...ctx.steps } })).toEqual(want);
  });

  it('folds constant calls at compile time', () => {
    const c = compileExpression("upper('a') == 'A' and len([1, 2]) == 2");
    expect(c.plan.nodes[c.plan.root]).toMatchObject({ op: 'const', value: true });
  });

  it('checks arity and argument types, statically when it can and at evaluation otherwise', () => {
    expect(err(() => compileExpression('abs(1, 2)')).message).toMatch(
      /'abs' takes 1 argument, got 2 .*usage: abs\(number\)/,
    );
    expect(err(() => compileExpression("abs('x')")).message).toMatch(
      /'abs' needs a number, got a string at 1:5/,
    );
    expect(err(() => compileExpression('lower(1)')).code).toBe('E_TYPE');
    expect(err(() => compileExpression('contains(x)')).message).toMatch(/takes 2 arguments, got 1/);
    expect(err(() => compileExpression('round(x, digits=2)')).message).toMatch(/takes no named arguments/);
    const e = err(() => evaluateRule('lower(n)', { n: 5 }));
    expect(e.message).toMatch(/'lower' needs a string, got a number at 1:7/);
    expect(err(() => evaluateRule('min(l)', { l: [] })).message).toMatch(/'min' of an empty list/);
    expect(err(() => evaluateRule('round(x, 1.5)', { x: 1 })).message).toMatch(/whole number of digits/);
  });

  it('leaves series calls to an indicator of the same name', () => {
    const close = Float64Array.from([1, 3, 2, 5, 4]);
    const rollingMax = getIndicator('rolling_max')!;
    const catalog = catalogOf([{ ...rollingMax, id: 'max', aliases: [] }]);
    const max = evaluateSeries('max(close, 2)', { close }, { catalog }).columns['max(close, 2)']!;
    expect(Array.from(max.slice(1))).toEqual([3, 3, 5, 5]);
    expect(compileExpression('max(a, b)', { catalog }).evaluate({ context: { a: 1, b: 2 } })).toBe(2);
    expect(err(() => evaluateSeries('lower(close)', { close })).message).toMatch(
      /'lower' works on plain values, got a series/,
    );
  });

  it('suggests a helper for a misspelt call', () => {
    expect(err(() => compileExpression('coalese(a, b)')).message).toMatch(/did you mean 'coalesce'/);
  });
});

describe('null-safe reads (the evaluation option templates use)', () => {
  it('gives null for a field or item of null, only when asked', () => {
    const c = compileExpression('task.metadata.title');
    const context = { task: { metadata: null } };
    expect(c.evaluate({ context, nullSafe: true })).toBeNull();
    expect(compileExpression("task.metadata['x'][0]").evaluate({ context, nullSafe: true })).toBeNull();
    expect(err(() => c.evaluate({ context })).message).toMatch(/cannot read field 'title' of null/);
    // a string is still not an object
    expect(err(() => c.evaluate({ context: { task: { metadata: 's' } }, nullSafe: true })).code).toBe(
      'E_TYPE',
    );
  });
});
