/**
 * Syntax tree produced by the parser. Every node carries the source span it came
 * from so that later stages (type checker, planner, evaluator) can point at it.
 */

/** Half-open character range `[start, end)` into the expression source. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Binary operators, by the spelling users write. */
export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'and' | 'or';

/** Unary prefix operators. */
export type UnaryOp = '-' | 'not';

/** A numeric literal such as `20` or `1.5e3`. */
export interface NumberLit {
  readonly kind: 'number';
  readonly value: number;
  readonly span: Span;
}

/** A string literal in single or double quotes. */
export interface StringLit {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}

/** `true` or `false`. */
export interface BoolLit {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly span: Span;
}

/** `null`. */
export interface NullLit {
  readonly kind: 'null';
  readonly span: Span;
}

/** A bare name: a dataset column or a context variable. */
export interface Ident {
  readonly kind: 'ident';
  readonly name: string;
  readonly span: Span;
}

/** `[a, b, c]`. */
export interface ListExpr {
  readonly kind: 'list';
  readonly items: readonly Expr[];
  readonly span: Span;
}

/** `object.property`. */
export interface MemberExpr {
  readonly kind: 'member';
  readonly object: Expr;
  readonly property: string;
  readonly propertySpan: Span;
  readonly span: Span;
}

/** A named argument `name=value` inside a call. */
export interface NamedArg {
  readonly name: string;
  readonly nameSpan: Span;
  readonly value: Expr;
}

/** `object[index]`: an item of a list (by position) or a field of an object (by key). */
export interface IndexExpr {
  readonly kind: 'index';
  readonly object: Expr;
  readonly index: Expr;
  readonly span: Span;
}

/** `name(args..., key=value...)`. Only named functions can be called. */
export interface CallExpr {
  readonly kind: 'call';
  readonly callee: string;
  readonly calleeSpan: Span;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
  readonly span: Span;
}

/** `-x` or `not x`. */
export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
  readonly span: Span;
}

/** `left op right`. */
export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** Span of the operator token itself, for error carets. */
  readonly opSpan: Span;
  readonly span: Span;
}

/** Any expression node. */
export type Expr =
  | NumberLit
  | StringLit
  | BoolLit
  | NullLit
  | Ident
  | ListExpr
  | MemberExpr
  | IndexExpr
  | CallExpr
  | UnaryExpr
  | BinaryExpr;
