/**
 * The typed intermediate representation. The type checker lowers the syntax tree
 * into this tree: names are resolved, calls are bound to indicators with every
 * parameter made explicit, and every node carries its static type. It is plain
 * JSON (no classes, no functions, no non-finite numbers), so it can be stored and
 * reloaded.
 */
import type { BinaryOp, Span, UnaryOp } from './ast.js';

/**
 * Static types.
 * - `scalar`: one number. `series`: a column of numbers (Float64Array), 1/0/NaN for truth values.
 * - `string`, `bool`, `null`, `list`: plain values. `object`: a record from a rule context.
 * - `outputs`: a multi-output indicator's result; select one with `.name`.
 * - `any`: a context value whose type is only known at evaluation time.
 */
export type ExprType =
  'scalar' | 'series' | 'string' | 'bool' | 'null' | 'list' | 'object' | 'outputs' | 'any';

/** A constant value as it appears in the IR. Numbers are always finite. */
export type ConstValue = number | string | boolean | null | readonly ConstValue[];

interface IrBase {
  readonly type: ExprType;
  readonly span: Span;
}

/** A literal, or a subtree the planner folded. */
export interface IrConst extends IrBase {
  readonly op: 'const';
  readonly value: ConstValue;
}

/** A dataset column, e.g. `close`. */
export interface IrColumn extends IrBase {
  readonly op: 'column';
  readonly name: string;
}

/** A context variable, resolved at evaluation time. */
export interface IrVar extends IrBase {
  readonly op: 'var';
  readonly name: string;
}

/** `[a, b]`. */
export interface IrList extends IrBase {
  readonly op: 'list';
  readonly items: readonly IrNode[];
}

/** `-x`, `not x`. */
export interface IrUnary extends IrBase {
  readonly op: 'unary';
  readonly operator: UnaryOp;
  readonly operand: IrNode;
}

/** Arithmetic, comparison, membership and logic. */
export interface IrBinary extends IrBase {
  readonly op: 'binary';
  readonly operator: BinaryOp;
  readonly left: IrNode;
  readonly right: IrNode;
}

/** `x.field` on a context object, or `.output` on a multi-output indicator. */
export interface IrMember extends IrBase {
  readonly op: 'member';
  readonly object: IrNode;
  readonly property: string;
}

/** `x[i]`: an item of a list by position, or a field of an object by key. */
export interface IrIndex extends IrBase {
  readonly op: 'index';
  readonly object: IrNode;
  readonly index: IrNode;
}

/** A call of a scalar helper (`lower(x)`, `coalesce(a, b)`); see functions.ts. */
export interface IrFunc extends IrBase {
  readonly op: 'func';
  readonly name: string;
  readonly args: readonly IrNode[];
}

/**
 * A bound indicator call: `id` is canonical (aliases resolved), `inputs` follow the
 * indicator's `inputs` order (implicit OHLCV columns included) and `params` holds
 * every parameter, defaults filled in.
 */
export interface IrIndicator extends IrBase {
  readonly op: 'indicator';
  readonly id: string;
  readonly inputs: readonly IrNode[];
  readonly params: Readonly<Record<string, number>>;
  readonly outputs: readonly string[];
}

/** Any IR node. */
export type IrNode =
  IrConst | IrColumn | IrVar | IrList | IrUnary | IrBinary | IrMember | IrIndex | IrFunc | IrIndicator;
