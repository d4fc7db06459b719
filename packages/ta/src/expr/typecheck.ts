/**
 * Type checker: resolves names, binds calls to indicators and gives every node a
 * static type, producing the IR. Errors point at the offending sub-expression.
 */
import type { Indicator } from '../indicator.js';
import type { CallExpr, Expr, Span } from './ast.js';
import type { IndicatorCatalog } from './catalog.js';
import { EXPR_CODES, didYouMean, exprError } from './diagnostics.js';
import type { ExprType, IrNode } from './ir.js';
import { constValueOf } from './fold.js';
import { ARITH_OPS, ORDER_OPS } from './ops.js';
import { SCALAR_FUNCTIONS, mayBe, scalarFunction, wantText, type ScalarFunction } from './functions.js';

/** What names mean while checking an expression. */
export interface TypeEnv {
  /** Dataset columns; each name is a `series`. */
  readonly columns?: Iterable<string>;
  /**
   * Context variables. `'dynamic'` accepts any other name as type `any` (checked at
   * evaluation time; the rule-language default). A record fixes the known names and types.
   */
  readonly variables?: 'dynamic' | Readonly<Record<string, ExprType>>;
  /** Callable indicators. */
  readonly catalog: IndicatorCatalog;
}

const NUMERIC: ReadonlySet<ExprType> = new Set(['scalar', 'series', 'any']);
const TRUTHY: ReadonlySet<ExprType> = new Set(['bool', 'series', 'any']);

/** Describes a type for messages: "a series", "a string". */
export function typeName(t: ExprType): string {
  switch (t) {
    case 'scalar':
      return 'a number';
    case 'any':
      return 'a value';
    case 'outputs':
      return 'a multi-output indicator';
    case 'null':
      return 'null';
    case 'object':
      return 'an object';
    default:
      return `a ${t}`;
  }
}

class Checker {
  private readonly columns: ReadonlySet<string>;

  constructor(
    private readonly source: string,
    private readonly env: TypeEnv,
  ) {
    this.columns = new Set(env.columns ?? []);
  }

  private fail(code: Parameters<typeof exprError>[0], what: string, span: Span, hint?: string): never {
    throw exprError(code, what, this.source, span, { hint });
  }

  check(e: Expr): IrNode {
    switch (e.kind) {
      case 'number':
        return { op: 'const', type: 'scalar', value: e.value, span: e.span };
      case 'string':
        return { op: 'const', type: 'string', value: e.value, span: e.span };
      case 'bool':
        return { op: 'const', type: 'bool', value: e.value, span: e.span };
      case 'null':
        return { op: 'const', type: 'null', value: null, span: e.span };
      case 'ident':
        return this.name(e.name, e.span);
      case 'list': {
        const items = e.items.map((it) => this.check(it));
        for (const it of items) {
          if (it.type === 'series' || it.type === 'outputs') {
            this.fail('E_TYPE', `a list cannot hold ${typeName(it.type)}`, it.span);
          }
        }
        return { op: 'list', type: 'list', items, span: e.span };
      }
      case 'member':
        return this.member(e.object, e.property, e.propertySpan, e.span);
      case 'index':
        return this.index(e);
      case 'call':
        return this.call(e);
      case 'unary': {
        const operand = this.check(e.operand);
        const t = operand.type;
        if (e.op === '-') {
          if (!NUMERIC.has(t))
            this.fail('E_TYPE', `unary '-' needs a number or series, got ${typeName(t)}`, e.span);
        } else if (!TRUTHY.has(t)) {
          this.fail('E_TYPE', `'not' needs a boolean or series, got ${typeName(t)}`, e.span);
        }
        const type: ExprType = t === 'series' ? 'series' : e.op === 'not' ? 'bool' : t;
        return { op: 'unary', operator: e.op, operand, type, span: e.span };
      }
      case 'binary':
        return this.binary(e);
    }
  }

  private name(name: string, span: Span): IrNode {
    if (this.columns.has(name)) return { op: 'column', type: 'series', name, span };
    const vars = this.env.variables;
    if (vars === 'dynamic') return { op: 'var', type: 'any', name, span };
    if (vars !== undefined && Object.hasOwn(vars, name)) return { op: 'var', type: vars[name], name, span };
    const known = [...this.columns, ...(vars === undefined ? [] : Object.keys(vars))];
    return this.fail('E_UNKNOWN_NAME', `unknown name '${name}'`, span, didYouMean(name, known));
  }

  private member(objectExpr: Expr, property: string, propSpan: Span, span: Span): IrNode {
    const object = this.check(objectExpr);
    if (object.type === 'outputs' && object.op === 'indicator') {
      if (!object.outputs.includes(property)) {
        const hint = didYouMean(property, object.outputs) ?? `outputs are ${object.outputs.join(', ')}`;
        this.fail('E_UNKNOWN_NAME', `'${object.id}' has no output '${property}'`, propSpan, hint);
      }
      return { op: 'member', type: 'series', object, property, span };
    }
    if (object.type === 'any' || object.type === 'object') {
      return { op: 'member', type: 'any', object, property, span };
    }
    return this.fail('E_TYPE', `cannot read field '${property}' of ${typeName(object.type)}`, propSpan);
  }

  private index(e: Extract<Expr, { kind: 'index' }>): IrNode {
    const object = this.check(e.object);
    const index = this.check(e.index);
    if (!['list', 'object', 'any'].includes(object.type)) {
      this.fail(
        'E_TYPE',
        `cannot index ${typeName(object.type)}`,
        e.object.span,
        'only lists and objects have items',
      );
    }
    if (!['scalar', 'string', 'any'].includes(index.type)) {
      this.fail('E_TYPE', `an index is a number or a string, got ${typeName(index.type)}`, e.index.span);
    }
    return { op: 'index', type: 'any', object, index, span: e.span };
  }

  /** A scalar helper: unless an argument is a series and an indicator has the name too. */
  private helper(e: CallExpr, fn: ScalarFunction): IrNode | undefined {
    const args = e.args.map((a) => this.check(a));
    if (args.some((a) => a.type === 'series' || a.type === 'outputs')) {
      if (this.env.catalog.get(e.callee) !== undefined) return undefined;
      const bad = args.find((a) => a.type === 'series' || a.type === 'outputs')!;
      this.fail('E_TYPE', `'${fn.name}' works on plain values, got ${typeName(bad.type)}`, bad.span);
    }
    if (e.named.length > 0) {
      this.fail(
        EXPR_CODES.arity,
        `'${fn.name}' takes no named arguments`,
        e.named[0]!.nameSpan,
        `usage: ${fn.usage}`,
      );
    }
    if (args.length < fn.minArgs || args.length > fn.maxArgs) {
      const n =
        fn.minArgs === fn.maxArgs
          ? `${fn.minArgs}`
          : fn.maxArgs === Infinity
            ? `at least ${fn.minArgs}`
            : `${fn.minArgs} or ${fn.maxArgs}`;
      this.fail(
        EXPR_CODES.arity,
        `'${fn.name}' takes ${n} argument${n === '1' ? '' : 's'}, got ${args.length}`,
        e.span,
        `usage: ${fn.usage}`,
      );
    }
    args.forEach((a, i) => {
      const want = fn.wants[Math.min(i, fn.wants.length - 1)]!;
      if (!mayBe(want, a.type)) {
        this.fail(
          'E_TYPE',
          `'${fn.name}' needs ${wantText(want)}, got ${typeName(a.type)}`,
          a.span,
          `usage: ${fn.usage}`,
        );
      }
    });
    return { op: 'func', name: fn.name, args, type: fn.result(args.map((a) => a.type)), span: e.span };
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): IrNode {
    const left = this.check(e.left);
    const right = this.check(e.right);
    const lt = left.type;
    const rt = right.type;
    const op = e.op;
    const series = lt === 'series' || rt === 'series';
    const node = (type: ExprType): IrNode => ({
      op: 'binary',
      operator: op,
      left,
      right,
      type,
      span: e.span,
    });
    const mismatch = (needs: string): never =>
      this.fail('E_TYPE', `'${op}' needs ${needs}, got ${typeName(lt)} and ${typeName(rt)}`, e.opSpan);
    for (const side of [left, right]) {
      if (side.type === 'outputs' && side.op === 'indicator') {
        this.fail(
          'E_TYPE',
          `'${side.id}' has several outputs`,
          side.span,
          `select one: ${side.outputs.map((o) => `.${o}`).join(', ')}`,
        );
      }
    }
    if (ARITH_OPS.has(op)) {
      if (!NUMERIC.has(lt) || !NUMERIC.has(rt)) mismatch('numbers or series');
      return node(series ? 'series' : lt === 'any' || rt === 'any' ? 'any' : 'scalar');
    }
    if (ORDER_OPS.has(op)) {
      const ok =
        (NUMERIC.has(lt) && NUMERIC.has(rt)) ||
        (!series && (lt === 'string' || lt === 'any') && (rt === 'string' || rt === 'any'));
      if (!ok) mismatch('two numbers, series or strings');
      return node(series ? 'series' : 'bool');
    }
    if (op === '==' || op === '!=') {
      if (series) {
        if (!NUMERIC.has(lt) || !NUMERIC.has(rt)) mismatch('numbers or series');
        return node('series');
      }
      const fixed = (t: ExprType): boolean => t !== 'any' && t !== 'null';
      if (fixed(lt) && fixed(rt) && lt !== rt) mismatch('values of the same type');
      return node('bool');
    }
    if (op === 'and' || op === 'or') {
      if (!TRUTHY.has(lt) || !TRUTHY.has(rt)) mismatch('booleans or series');
      return node(series ? 'series' : 'bool');
    }
    // in / not in
    if (lt === 'series' && rt !== 'list' && rt !== 'any') mismatch('a list of numbers on the right');
    if (rt === 'series') mismatch('a list or string on the right');
    if (!(rt === 'list' || rt === 'string' || rt === 'any')) mismatch('a list or string on the right');
    if (rt === 'string' && !(lt === 'string' || lt === 'any')) mismatch('a string on the left of a string');
    return node(lt === 'series' ? 'series' : 'bool');
  }

  private call(e: CallExpr): IrNode {
    const fn = scalarFunction(e.callee);
    const asHelper = fn && this.helper(e, fn);
    if (asHelper) return asHelper;
    const ind = this.env.catalog.get(e.callee);
    if (ind === undefined) {
      return this.fail(
        'E_UNKNOWN_FUNCTION',
        `unknown function '${e.callee}'`,
        e.calleeSpan,
        didYouMean(e.callee, [...SCALAR_FUNCTIONS, ...this.env.catalog.names()]),
      );
    }
    const args = e.args.map((a) => this.check(a));
    const explicitSlots = ind.inputs.filter(isExplicitInput).length;
    const implicit = ind.inputs.filter((i) => !isExplicitInput(i));
    // Leading series arguments fill the caller-chosen inputs; the rest are parameters.
    // Slots after the first (series2, series3) also take a constant number, broadcast:
    // `cross(close, 50)`, `in_channel(close, 90, 110)`.
    let k = 0;
    const given: IrNode[] = [];
    while (k < args.length && given.length < explicitSlots) {
      const a = args[k];
      if (a.type === 'series' || a.type === 'outputs') given.push(a);
      else if (given.length > 0 && a.type === 'scalar' && typeof constValueOf(a) === 'number') {
        given.push({ op: 'const', type: 'scalar', value: constValueOf(a) as number, span: a.span });
      } else break;
      k++;
    }
    for (const g of given) {
      if (g.type === 'outputs' && g.op === 'indicator') {
        this.fail(
          'E_TYPE',
          `'${g.id}' has several outputs`,
          g.span,
          `select one: ${g.outputs.map((o) => `.${o}`).join(', ')}`,
        );
      }
    }
    const inputs: IrNode[] = [];
    let g = 0;
    for (const input of ind.inputs) {
      if (isExplicitInput(input)) {
        if (g < given.length) inputs.push(given[g++]);
        else if (input === 'series') inputs.push(this.defaultColumn(ind, 'close', e));
        else {
          this.fail(
            EXPR_CODES.arity,
            `'${ind.id}' needs ${explicitSlots} input series, got ${given.length}`,
            e.span,
            signature(ind),
          );
        }
      } else {
        inputs.push(this.defaultColumn(ind, input, e));
      }
    }
    const params: Record<string, number> = {};
    const spans: Record<string, Span> = {};
    const positional = args.slice(k);
    positional.forEach((arg, i) => {
      const spec = ind.params[i];
      if (spec === undefined) {
        const max = explicitSlots + ind.params.length;
        const got = args.length;
        this.fail(
          EXPR_CODES.arity,
          `'${ind.id}' takes at most ${max} argument${max === 1 ? '' : 's'}, got ${got}`,
          arg.span,
          arg.type === 'series' && implicit.length > 0
            ? `'${ind.id}' reads ${implicit.join(', ')} from the dataset; pass only its parameters`
            : signature(ind),
        );
      }
      params[spec.name] = this.paramValue(ind, spec.name, arg, implicit);
      spans[spec.name] = arg.span;
    });
    for (const na of e.named) {
      const spec = ind.params.find((p) => p.name === na.name);
      if (spec === undefined) {
        const hint =
          didYouMean(
            na.name,
            ind.params.map((p) => p.name),
          ) ?? signature(ind);
        this.fail(EXPR_CODES.arity, `unknown parameter '${na.name}' of '${ind.id}'`, na.nameSpan, hint);
      }
      if (Object.hasOwn(params, na.name)) {
        this.fail(EXPR_CODES.arity, `parameter '${na.name}' of '${ind.id}' given twice`, na.nameSpan);
      }
      const value = this.check(na.value);
      params[spec.name] = this.paramValue(ind, spec.name, value, implicit);
      spans[spec.name] = value.span;
    }
    const full: Record<string, number> = {};
    for (const spec of ind.params) {
      const v = Object.hasOwn(params, spec.name) ? params[spec.name] : spec.default;
      if (Object.hasOwn(params, spec.name)) {
        if (spec.type === 'int' && !Number.isInteger(v)) {
          this.fail(
            'E_PARAM_INVALID',
            `parameter '${spec.name}' of '${ind.id}' must be a whole number, got ${v}`,
            spans[spec.name],
          );
        }
        if (v < spec.min || v > spec.max) {
          this.fail(
            spec.window === true && v < spec.min ? 'E_PERIOD_INVALID' : 'E_PARAM_INVALID',
            `parameter '${spec.name}' of '${ind.id}' must be between ${spec.min} and ${spec.max}, got ${v}`,
            spans[spec.name],
          );
        }
      }
      full[spec.name] = v;
    }
    return {
      op: 'indicator',
      id: ind.id,
      inputs,
      params: full,
      outputs: [...ind.outputs],
      type: ind.outputs.length === 1 ? 'series' : 'outputs',
      span: e.span,
    };
  }

  private defaultColumn(ind: Indicator, name: string, e: CallExpr): IrNode {
    if (!this.columns.has(name)) {
      this.fail(
        'E_UNKNOWN_NAME',
        `'${ind.id}' reads column '${name}', which the dataset does not have`,
        e.calleeSpan,
      );
    }
    return { op: 'column', type: 'series', name, span: e.calleeSpan };
  }

  private paramValue(ind: Indicator, name: string, arg: IrNode, implicit: readonly string[]): number {
    const v = constValueOf(arg);
    if (typeof v === 'number') return v;
    const hint =
      arg.type === 'series' && implicit.length > 0
        ? `'${ind.id}' reads ${implicit.join(', ')} from the dataset; pass only its parameters`
        : undefined;
    return this.fail(
      'E_TYPE',
      `parameter '${name}' of '${ind.id}' must be a constant number, got ${typeName(arg.type)}`,
      arg.span,
      hint,
    );
  }
}

/** True for inputs the caller passes (`series`, `series2`, ...), false for OHLCV columns read implicitly. */
export function isExplicitInput(input: string): boolean {
  return input.startsWith('series');
}

/** `sma(series, period)`: the call signature, for hints. */
export function signature(ind: Indicator): string {
  const ins = ind.inputs.filter(isExplicitInput);
  return `usage: ${ind.id}(${[...ins, ...ind.params.map((p) => p.name)].join(', ')})`;
}

/**
 * Checks `ast` (parsed from `source`) against `env` and returns the typed IR.
 *
 * @throws TaError `E_TYPE`, `E_UNKNOWN_NAME`, `E_UNKNOWN_FUNCTION`, `E_PARAM_INVALID` or
 *   `E_PERIOD_INVALID`, positioned at the offending sub-expression.
 */
export function typecheck(source: string, ast: Expr, env: TypeEnv): IrNode {
  return new Checker(source, env).check(ast);
}
