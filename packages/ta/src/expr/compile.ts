/**
 * The one-call API: parse, check, plan, evaluate. Compile once and evaluate many
 * times (YAML rules are compiled when config loads and evaluated per event).
 */
import type { Expr } from './ast.js';
import { registryCatalog, type IndicatorCatalog } from './catalog.js';
import { exprError } from './diagnostics.js';
import { evaluatePlan, OutputSet, type EvalInput, type ExprValue } from './evaluator.js';
import type { ExprType, IrNode } from './ir.js';
import { parseExpression } from './parser.js';
import { planExpression, type Plan } from './planner.js';
import { typecheck } from './typecheck.js';

/** Options of {@link compileExpression}. */
export interface CompileOptions {
  /** Dataset column names (each a series), e.g. `['open', 'high', 'low', 'close', 'volume']`. */
  readonly columns?: Iterable<string>;
  /**
   * Context variables: `'dynamic'` (any name, checked at evaluation) or fixed names and types.
   * Defaults to `'dynamic'` when `columns` is not given, and to none when it is, so a
   * typo in a series expression fails at compile time.
   */
  readonly variables?: 'dynamic' | Readonly<Record<string, ExprType>>;
  /** Callable indicators; defaults to the @baton/ta registry. */
  readonly catalog?: IndicatorCatalog;
}

/** A parsed, checked and planned expression. */
export interface CompiledExpression {
  readonly source: string;
  /** Syntax tree, with source spans. */
  readonly ast: Expr;
  /** Typed IR (plain JSON). */
  readonly ir: IrNode;
  /** Evaluation plan after constant folding and common-subexpression elimination (plain JSON). */
  readonly plan: Plan;
  /** Static type of the result. */
  readonly type: ExprType;
  /** Leading bars that cannot hold a value because of indicator warm-up. */
  readonly lookback: number;
  /** Evaluates against dataset columns and/or a context object. */
  evaluate(input: EvalInput): ExprValue;
}

/** The standard OHLCV column names. */
export const OHLCV: readonly string[] = ['open', 'high', 'low', 'close', 'volume'];

/**
 * Parses, type-checks and plans `source`.
 *
 * @throws TaError with a stable code and `line:column` (see docs/expressions.md).
 * @example
 * ```ts
 * const rule = compileExpression("status not in ['completed', 'failed']");
 * rule.evaluate({ context: { status: 'running' } }); // true
 * ```
 */
export function compileExpression(source: string, options: CompileOptions = {}): CompiledExpression {
  const catalog = options.catalog ?? registryCatalog;
  const variables = options.variables ?? (options.columns === undefined ? 'dynamic' : undefined);
  const ast = parseExpression(source);
  const ir = typecheck(source, ast, { columns: options.columns, variables, catalog });
  const plan = planExpression(source, ir, catalog);
  return {
    source,
    ast,
    ir,
    plan,
    type: plan.type,
    lookback: plan.lookback,
    evaluate: (input) => evaluatePlan(plan, input, catalog),
  };
}

/** Result of {@link evaluateSeries}. */
export interface SeriesResult {
  /** Result columns, each as long as the dataset; multi-output results give `<id>.<output>`. */
  readonly columns: Record<string, Float64Array>;
  /** Minimum lookback of the expression. */
  readonly lookback: number;
}

/** Options of {@link evaluateSeries}. */
export interface SeriesOptions {
  /** Name of a single result column; defaults to the expression text. */
  readonly name?: string;
  /** Scalar variables usable next to the columns, e.g. `{ threshold: 30 }`. */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly catalog?: IndicatorCatalog;
}

/**
 * Evaluates a series expression over a dataset of equal-length columns.
 * Scalars and booleans are broadcast (booleans as 1/0) so every result is a column.
 *
 * @example
 * ```ts
 * evaluateSeries('close > sma(close, 200) and rsi(close, 14) < 30', { close }).columns
 * ```
 */
export function evaluateSeries(
  source: string,
  dataset: Readonly<Record<string, Float64Array>>,
  options: SeriesOptions = {},
): SeriesResult {
  const compiled = compileExpression(source, {
    columns: Object.keys(dataset),
    variables: options.context === undefined ? undefined : 'dynamic',
    catalog: options.catalog,
  });
  const value = compiled.evaluate({ columns: dataset, context: options.context });
  const first = Object.values(dataset)[0];
  const length = dataset.close?.length ?? first?.length ?? 0;
  const name = options.name ?? source.trim().replace(/\s+/g, ' ');
  return { columns: toColumns(value, length, name, compiled.source), lookback: compiled.lookback };
}

/**
 * Turns an expression value into named columns of length `length`:
 * a series as is, a multi-output result as `<id>.<output>`, a number or boolean
 * broadcast (true = 1, false = 0, null = NaN).
 *
 * @throws TaError `E_TYPE` for strings, lists and objects, which have no column form.
 */
export function toColumns(
  value: ExprValue,
  length: number,
  name: string,
  source = name,
): Record<string, Float64Array> {
  if (value instanceof Float64Array) return { [name]: value };
  if (value instanceof OutputSet) {
    const out: Record<string, Float64Array> = {};
    value.names.forEach((n, i) => (out[`${value.indicator}.${n}`] = value.series[i]));
    return out;
  }
  if (typeof value === 'number') return { [name]: new Float64Array(length).fill(value) };
  if (typeof value === 'boolean') return { [name]: new Float64Array(length).fill(value ? 1 : 0) };
  if (value === null) return { [name]: new Float64Array(length).fill(NaN) };
  throw exprError(
    'E_TYPE',
    `the expression gives ${Array.isArray(value) ? 'a list' : typeof value === 'string' ? 'a string' : 'an object'}, not a series`,
    source,
    {
      start: 0,
      end: source.length,
    },
  );
}

/**
 * Evaluates a rule over a plain context (YAML rules): nested objects, strings,
 * numbers, booleans, lists and null.
 *
 * @example
 * ```ts
 * evaluateRule('percent_used >= critical_percent', { percent_used: 95, critical_percent: 90 }) // true
 * ```
 */
export function evaluateRule(
  source: string,
  context: Readonly<Record<string, unknown>>,
  options: { catalog?: IndicatorCatalog } = {},
): ExprValue {
  return compileExpression(source, { catalog: options.catalog }).evaluate({ context });
}

/**
 * Like {@link evaluateRule} but the result must be a boolean: the form for conditions.
 *
 * @throws TaError `E_TYPE` when the expression gives anything but `true` or `false`.
 */
export function evaluateCondition(
  source: string,
  context: Readonly<Record<string, unknown>>,
  options: { catalog?: IndicatorCatalog } = {},
): boolean {
  const v = evaluateRule(source, context, options);
  if (typeof v !== 'boolean') {
    throw exprError(
      'E_TYPE',
      `a condition must give true or false, got ${v === null ? 'null' : typeof v}`,
      source,
      {
        start: 0,
        end: source.length,
      },
    );
  }
  return v;
}
