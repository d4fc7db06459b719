/**
 * Public entry of Baton's expression language: a small, safe language (no I/O, no
 * loops, no access to JS objects beyond plain data) for YAML rules and for series
 * analytics. See docs/expressions.md.
 */
export type { BinaryOp, Expr, Span, UnaryOp } from './ast.js';
export { catalogOf, registryCatalog, type IndicatorCatalog } from './catalog.js';
export {
  OHLCV,
  compileExpression,
  evaluateCondition,
  evaluateRule,
  evaluateSeries,
  toColumns,
  type CompileOptions,
  type CompiledExpression,
  type SeriesOptions,
  type SeriesResult,
} from './compile.js';
export { caretFrame, positionOf, type SourcePosition } from './diagnostics.js';
export { OutputSet, evaluatePlan, type EvalInput, type ExprValue } from './evaluator.js';
export type { ConstValue, ExprType, IrNode } from './ir.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
export { parseExpression } from './parser.js';
export { planExpression, type Plan, type PlanNode } from './planner.js';
export { typecheck, type TypeEnv } from './typecheck.js';
