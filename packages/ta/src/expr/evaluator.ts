/**
 * Evaluator: runs a {@link Plan} over dataset columns (Float64Array series) and/or a
 * plain context object (YAML rules). Each plan node is computed at most once; series
 * work is done by whole-array loops (series-ops.ts), never per element in here.
 * `and` / `or` on plain booleans short-circuit, so `x != null and x.y > 1` is safe.
 *
 * Intermediate series are recycled: once every node that reads a node's series has been
 * computed, its buffer goes back to a pool and a later node writes into it instead of
 * allocating (see {@link Liveness}). Only buffers the evaluator allocated are recycled, never a
 * column, a context value or the result.
 */
import { TaError, isTaError } from '../errors.js';
import type { BinaryOp } from './ast.js';
import type { IndicatorCatalog } from './catalog.js';
import { didYouMean, exprError } from './diagnostics.js';
import {
  ARITH_OPS,
  ORDER_OPS,
  arith,
  contains,
  indexValue,
  isPlainObject,
  order,
  plainEquals,
} from './ops.js';
import { HelperArgError, callHelper, scalarFunction } from './functions.js';
import type { Plan, PlanNode } from './planner.js';
import { seriesArith, seriesCompare, seriesIn, seriesLogic, seriesNeg, seriesNot } from './series-ops.js';

/** All outputs of a multi-output indicator call; `.name` on it selects one. */
export class OutputSet {
  constructor(
    /** Canonical indicator id. */
    readonly indicator: string,
    /** Output names, in the indicator's order. */
    readonly names: readonly string[],
    /** One series per name. */
    readonly series: readonly Float64Array[],
  ) {}

  /** The series of output `name`, or undefined. */
  get(name: string): Float64Array | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.series[i];
  }
}

/**
 * A run-time value: a number, a series, a plain value from the context (string,
 * boolean, null, list, object), or a multi-output indicator result.
 */
export type ExprValue =
  | number
  | string
  | boolean
  | null
  | Float64Array
  | readonly unknown[]
  | Readonly<Record<string, unknown>>
  | OutputSet;

/** What an expression is evaluated against. */
export interface EvalInput {
  /** Dataset columns, all of one length (OHLCV and any others). */
  readonly columns?: Readonly<Record<string, Float64Array>>;
  /** Plain context for rules: nested objects, strings, numbers, booleans, lists, null. */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Reading a field or an item of `null` gives `null` instead of an `E_TYPE` error, as GitHub Actions
   * and Jinja templates do: YAML workflows' templates render a missing optional value as empty.
   */
  readonly nullSafe?: boolean;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Float64Array) return 'a series';
  if (v instanceof OutputSet) return 'a multi-output indicator';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'string') return 'a string';
  if (isPlainObject(v)) return 'an object';
  return `an unsupported value (${typeof v})`;
}

/** The nodes whose values a node reads (a member reads its object through an alias, not a copy). */
function readsOf(node: PlanNode): readonly number[] {
  switch (node.op) {
    case 'unary':
      return [node.operand];
    case 'binary':
      return [node.left, node.right];
    case 'indicator':
      return node.inputs;
    case 'index':
      return [node.object, node.index];
    case 'func':
      return node.args;
    default:
      return [];
  }
}

/**
 * Which node's buffers a value belongs to: a member of a multi-output result is one of that
 * result's buffers, so reading it keeps the whole result alive.
 */
function ownerOf(nodes: readonly PlanNode[], id: number): number {
  const node = nodes[id];
  return node.op === 'member' ? ownerOf(nodes, node.object) : id;
}

/**
 * Reference counts of the series the evaluator computes: each node's count is the number of
 * nodes that read it (and one for the result, and one for each list that holds it, which are
 * never given back). When the last reader has been computed the buffers return to the pool.
 * A reader that short-circuits past a node still counts as done with it.
 */
class Liveness {
  private readonly readers: number[];

  constructor(
    private readonly nodes: readonly PlanNode[],
    root: number,
  ) {
    this.readers = initialReaders(nodes, root).slice();
  }

  /** `reader` has been computed: returns the nodes it was the last reader of. */
  done(reader: PlanNode): number[] {
    const dead: number[] = [];
    for (const id of readsOf(reader)) {
      const owner = ownerOf(this.nodes, id);
      if (--this.readers[owner] === 0) dead.push(owner);
    }
    return dead;
  }
}

/** The readers count of each node of a plan, computed once per plan (a rule is evaluated many times). */
const READERS = new WeakMap<readonly PlanNode[], number[]>();

function initialReaders(nodes: readonly PlanNode[], root: number): number[] {
  const cached = READERS.get(nodes);
  if (cached) return cached;
  const readers = new Array<number>(nodes.length).fill(0);
  for (const node of nodes) {
    for (const id of readsOf(node)) readers[ownerOf(nodes, id)]++;
    if (node.op === 'list') for (const id of node.items) readers[ownerOf(nodes, id)]++;
  }
  readers[ownerOf(nodes, root)]++;
  READERS.set(nodes, readers);
  return readers;
}

/** Free buffers by length; it hands out only buffers it allocated, and takes back only those. */
class BufferPool {
  // Created on first use: rules over plain values never allocate a series.
  private free: Map<number, Float64Array[]> | undefined;
  private mine: WeakSet<Float64Array> | undefined;

  take(n: number): Float64Array {
    const b = this.free?.get(n)?.pop();
    if (b) return b;
    const fresh = new Float64Array(n);
    (this.mine ??= new WeakSet()).add(fresh);
    return fresh;
  }

  give(v: ExprValue | undefined): void {
    if (!this.mine) return;
    const series = v instanceof OutputSet ? v.series : v instanceof Float64Array ? [v] : [];
    for (const b of series) {
      if (!this.mine.has(b)) continue;
      this.free ??= new Map();
      const list = this.free.get(b.length);
      if (list) list.push(b);
      else this.free.set(b.length, [b]);
    }
  }
}

class Evaluator {
  private readonly memo: (ExprValue | undefined)[];
  private readonly source: string;
  private readonly liveness: Liveness;
  private readonly pool = new BufferPool();

  constructor(
    private readonly plan: Plan,
    private readonly input: EvalInput,
    private readonly catalog: IndicatorCatalog,
  ) {
    this.memo = new Array<ExprValue | undefined>(plan.nodes.length);
    this.source = plan.source;
    this.liveness = new Liveness(plan.nodes, plan.root);
  }

  private fail(code: Parameters<typeof exprError>[0], what: string, node: PlanNode, hint?: string): never {
    throw exprError(code, what, this.source, node.span, { hint });
  }

  value(id: number): ExprValue {
    const cached = this.memo[id];
    if (cached !== undefined) return cached;
    const node = this.plan.nodes[id];
    const v = this.compute(node);
    this.memo[id] = v;
    for (const dead of this.liveness.done(node)) this.pool.give(this.memo[dead]);
    return v;
  }

  private compute(node: PlanNode): ExprValue {
    switch (node.op) {
      case 'const':
        return node.value;
      case 'column': {
        const col = this.input.columns?.[node.name];
        if (!(col instanceof Float64Array) || !Object.hasOwn(this.input.columns ?? {}, node.name)) {
          return this.fail('E_UNKNOWN_NAME', `the dataset has no column '${node.name}'`, node);
        }
        return col;
      }
      case 'var':
        return this.variable(node);
      case 'list':
        return node.items.map((i) => this.value(i));
      case 'unary':
        return this.unary(node);
      case 'binary':
        return this.binary(node);
      case 'member':
        return this.member(node);
      case 'index':
        return this.index(node);
      case 'func':
        return this.func(node);
      case 'indicator':
        return this.indicator(node);
    }
  }

  private index(node: Extract<PlanNode, { op: 'index' }>): ExprValue {
    const obj = this.value(node.object);
    const key = this.value(node.index);
    if (obj === null && this.input.nullSafe) return null;
    const v = indexValue(obj, key);
    if (v !== undefined) return this.plain(v, node);
    if (Array.isArray(obj)) {
      return this.fail(
        'E_TYPE',
        `a list is indexed by a whole number, got ${kindOf(key)}${typeof key === 'number' ? ` (${key})` : ''}`,
        node,
      );
    }
    if (isPlainObject(obj))
      return this.fail('E_TYPE', `an object is indexed by a string, got ${kindOf(key)}`, node);
    return this.fail('E_TYPE', `cannot index ${kindOf(obj)}`, node);
  }

  private func(node: Extract<PlanNode, { op: 'func' }>): ExprValue {
    const args = node.args.map((a) => this.value(a));
    const fn = scalarFunction(node.name);
    if (fn === undefined) return this.fail('E_UNKNOWN_FUNCTION', `unknown function '${node.name}'`, node);
    const bad = args.find((a) => a instanceof Float64Array || a instanceof OutputSet);
    if (bad !== undefined)
      return this.fail('E_TYPE', `'${fn.name}' works on plain values, got ${kindOf(bad)}`, node);
    try {
      return this.plain(callHelper(fn, args), node);
    } catch (e) {
      if (!(e instanceof HelperArgError)) throw e;
      const at = this.plan.nodes[node.args[e.argIndex] ?? -1] ?? node;
      return this.fail('E_TYPE', e.message, at, `usage: ${fn.usage}`);
    }
  }

  private variable(node: Extract<PlanNode, { op: 'var' }>): ExprValue {
    const ctx = this.input.context ?? {};
    if (!Object.hasOwn(ctx, node.name)) {
      return this.fail(
        'E_UNKNOWN_NAME',
        `unknown name '${node.name}'`,
        node,
        didYouMean(node.name, Object.keys(ctx)),
      );
    }
    return this.plain(ctx[node.name], node);
  }

  /** Admits only plain data from the context: no functions, class instances or undefined. */
  private plain(v: unknown, node: PlanNode): ExprValue {
    if (v === undefined) return null;
    if (
      v === null ||
      typeof v === 'number' ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      v instanceof Float64Array ||
      Array.isArray(v) ||
      isPlainObject(v)
    ) {
      return v as ExprValue;
    }
    return this.fail('E_TYPE', `${kindOf(v)} cannot be used in an expression`, node);
  }

  private member(node: Extract<PlanNode, { op: 'member' }>): ExprValue {
    const obj = this.value(node.object);
    if (obj === null && this.input.nullSafe) return null;
    if (obj instanceof OutputSet) {
      const s = obj.get(node.property);
      if (s === undefined) {
        return this.fail('E_UNKNOWN_NAME', `'${obj.indicator}' has no output '${node.property}'`, node);
      }
      return s;
    }
    // Own properties of plain records only: `x.constructor` or `x.__proto__` never reach a prototype.
    if (isPlainObject(obj))
      return Object.hasOwn(obj, node.property) ? this.plain(obj[node.property], node) : null;
    return this.fail('E_TYPE', `cannot read field '${node.property}' of ${kindOf(obj)}`, node);
  }

  private unary(node: Extract<PlanNode, { op: 'unary' }>): ExprValue {
    const v = this.value(node.operand);
    if (node.operator === '-') {
      if (typeof v === 'number') return -v;
      if (v instanceof Float64Array) return seriesNeg(v, this.pool.take(v.length));
      return this.fail('E_TYPE', `unary '-' needs a number or series, got ${kindOf(v)}`, node);
    }
    if (typeof v === 'boolean') return !v;
    if (v instanceof Float64Array) return seriesNot(v, this.pool.take(v.length));
    return this.fail('E_TYPE', `'not' needs a boolean or series, got ${kindOf(v)}`, node);
  }

  private binary(node: Extract<PlanNode, { op: 'binary' }>): ExprValue {
    const op = node.operator;
    const l = this.value(node.left);
    if ((op === 'and' || op === 'or') && typeof l === 'boolean') {
      // Short-circuit on plain booleans; a series on the right still needs the element-wise path.
      if (op === 'and' && !l) return this.shortCircuit(node, false);
      if (op === 'or' && l) return this.shortCircuit(node, true);
    }
    const r = this.value(node.right);
    if (l instanceof Float64Array || r instanceof Float64Array) return this.seriesBinary(node, op, l, r);
    const bad = (needs: string): never =>
      this.fail('E_TYPE', `'${op}' needs ${needs}, got ${kindOf(l)} and ${kindOf(r)}`, node);
    if (ARITH_OPS.has(op)) {
      if (typeof l !== 'number' || typeof r !== 'number') return bad('numbers or series');
      return arith(op, l, r);
    }
    if (ORDER_OPS.has(op)) {
      if (!(
        (typeof l === 'number' && typeof r === 'number') ||
        (typeof l === 'string' && typeof r === 'string')
      )) {
        return bad('two numbers or two strings');
      }
      return order(op, l, r);
    }
    switch (op) {
      case '==':
        return plainEquals(l, r);
      case '!=':
        return !plainEquals(l, r);
      case 'and':
      case 'or':
        if (typeof l !== 'boolean' || typeof r !== 'boolean') return bad('booleans or series');
        return op === 'and' ? l && r : l || r;
      default: {
        if (typeof r === 'string') {
          if (typeof l !== 'string') return bad('a string on the left of a string');
        } else if (!Array.isArray(r)) {
          return bad('a list or string on the right');
        }
        return contains(r as readonly unknown[] | string, l) === (op === 'in');
      }
    }
  }

  /**
   * `false and s` with a series `s` must still be element-wise (NaN stays NaN), so
   * only short-circuit when the right side is not a series.
   */
  private shortCircuit(node: Extract<PlanNode, { op: 'binary' }>, result: boolean): ExprValue {
    const rightType = this.plan.nodes[node.right].type;
    if (rightType === 'series') {
      return this.seriesBinary(node, node.operator, result, this.value(node.right));
    }
    return result;
  }

  private seriesBinary(node: PlanNode, op: BinaryOp, l: ExprValue, r: ExprValue): Float64Array {
    const n = this.lengthOf(node, l, r);
    if (op === 'in' || op === 'not in') {
      if (!(l instanceof Float64Array) || !Array.isArray(r) || !r.every((x) => typeof x === 'number')) {
        return this.fail('E_TYPE', `'${op}' on a series needs a list of numbers on the right`, node);
      }
      return seriesIn(l, r as number[], op === 'not in', this.pool.take(n));
    }
    const operand = (v: ExprValue): Float64Array | number => {
      if (v instanceof Float64Array || typeof v === 'number') return v;
      if (typeof v === 'boolean' && (op === 'and' || op === 'or')) return v ? 1 : 0;
      return this.fail('E_TYPE', `'${op}' cannot combine a series with ${kindOf(v)}`, node);
    };
    const a = operand(l);
    const b = operand(r);
    const out = this.pool.take(n);
    if (ARITH_OPS.has(op)) return seriesArith(op, a, b, n, out);
    if (op === 'and' || op === 'or') return seriesLogic(op, a, b, n, out);
    return seriesCompare(op, a, b, n, out);
  }

  private lengthOf(node: PlanNode, l: ExprValue, r: ExprValue): number {
    if (l instanceof Float64Array && r instanceof Float64Array && l.length !== r.length) {
      return this.fail(
        'E_LENGTH_MISMATCH',
        `series of different lengths (${l.length} and ${r.length})`,
        node,
      );
    }
    return l instanceof Float64Array ? l.length : (r as Float64Array).length;
  }

  private indicator(node: Extract<PlanNode, { op: 'indicator' }>): ExprValue {
    const ind = this.catalog.get(node.indicator);
    if (ind === undefined)
      return this.fail('E_UNKNOWN_FUNCTION', `unknown function '${node.indicator}'`, node);
    const inputs: Float64Array[] = [];
    const broadcast: Float64Array[] = [];
    for (const id of node.inputs) {
      let v = this.value(id);
      // A constant for a later series slot (`cross(close, 50)`) is broadcast to the first input's length.
      if (typeof v === 'number' && inputs.length > 0) {
        v = this.pool.take(inputs[0].length).fill(v);
        broadcast.push(v);
      }
      if (!(v instanceof Float64Array)) {
        return this.fail('E_TYPE', `'${node.indicator}' needs series inputs, got ${kindOf(v)}`, node);
      }
      if (inputs.length > 0 && v.length !== inputs[0].length) {
        return this.fail(
          'E_LENGTH_MISMATCH',
          `'${node.indicator}' got input series of different lengths (${inputs[0].length} and ${v.length})`,
          node,
        );
      }
      inputs.push(v);
    }
    const n = inputs[0]?.length ?? 0;
    const out = node.outputs.map(() => this.pool.take(n));
    let outs: Float64Array[];
    try {
      outs = ind.compute(inputs, node.params, { out });
    } catch (e) {
      // Kernel errors keep their code and gain the position of the call.
      const code = isTaError(e) ? e.code : 'E_EVAL';
      const msg = e instanceof Error ? e.message : String(e);
      const what = msg.startsWith(`${node.indicator}:`) ? msg : `${node.indicator}: ${msg}`;
      throw exprError(code, what, this.source, node.span, {
        cause: e,
        details: e instanceof TaError ? e.details : undefined,
      });
    }
    // buffers the indicator did not write into (one registered by a user may not take `out`)
    for (const b of [...broadcast, ...out.filter((b) => !outs.includes(b))]) this.pool.give(b);
    return outs.length === 1 ? outs[0] : new OutputSet(node.indicator, node.outputs, outs);
  }
}

/**
 * Evaluates a plan. Dataset columns and context variables are looked up by the
 * names the plan was checked against.
 *
 * @throws TaError positioned at the failing sub-expression (`E_TYPE`, `E_LENGTH_MISMATCH`,
 *   kernel codes such as `E_PERIOD_INVALID`, ...).
 */
export function evaluatePlan(plan: Plan, input: EvalInput, catalog: IndicatorCatalog): ExprValue {
  return new Evaluator(plan, input, catalog).value(plan.root);
}
