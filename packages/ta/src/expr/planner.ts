/**
 * Planner: turns the typed IR tree into a flat, topologically ordered DAG.
 * - Constant subtrees are folded (never into non-finite numbers, which JSON cannot hold).
 * - Structurally equal subtrees become one node (common-subexpression elimination),
 *   so `sma(close, 20)` runs once however often it is written, whether spelled
 *   `sma(20)`, `sma(close, 20)`, `sma(close, period=20)` or by an alias.
 * - Every node gets its lookback: TA-Lib lookbacks compose by addition through
 *   nested indicators and by `max` across operands.
 * The plan is plain JSON and can be stored and evaluated later.
 */
import type { BinaryOp, Span, UnaryOp } from './ast.js';
import type { IndicatorCatalog } from './catalog.js';
import { isTaError } from '../errors.js';
import type { Indicator } from '../indicator.js';
import { exprError } from './diagnostics.js';
import type { ConstValue, ExprType, IrIndicator, IrNode } from './ir.js';
import { constType, constValueOf } from './fold.js';

interface PlanBase {
  /** Index of this node in {@link Plan.nodes}. Children always have smaller ids. */
  readonly id: number;
  readonly type: ExprType;
  /** Span of the first occurrence in the source, for error carets. */
  readonly span: Span;
  /** Leading values that are NaN because of indicator warm-up. */
  readonly lookback: number;
}

/** One node of a {@link Plan}; children are referenced by id. */
export type PlanNode = PlanBase &
  (
    | { readonly op: 'const'; readonly value: ConstValue }
    | { readonly op: 'column'; readonly name: string }
    | { readonly op: 'var'; readonly name: string }
    | { readonly op: 'list'; readonly items: readonly number[] }
    | { readonly op: 'unary'; readonly operator: UnaryOp; readonly operand: number }
    | { readonly op: 'binary'; readonly operator: BinaryOp; readonly left: number; readonly right: number }
    | { readonly op: 'member'; readonly object: number; readonly property: string }
    | { readonly op: 'index'; readonly object: number; readonly index: number }
    | { readonly op: 'func'; readonly name: string; readonly args: readonly number[] }
    | {
        readonly op: 'indicator';
        /** Canonical indicator id. */
        readonly indicator: string;
        readonly inputs: readonly number[];
        readonly params: Readonly<Record<string, number>>;
        readonly outputs: readonly string[];
      }
  );

/** An evaluation plan: a DAG in evaluation order. JSON-serializable. */
export interface Plan {
  /** Format version of this structure. */
  readonly version: 1;
  /** The expression source, for positioned run-time errors. */
  readonly source: string;
  readonly nodes: readonly PlanNode[];
  /** Id of the node whose value is the expression's value. */
  readonly root: number;
  /** The expression's type. */
  readonly type: ExprType;
  /** Minimum lookback of the whole expression: the first index that can hold a value. */
  readonly lookback: number;
}

type NodeBody = PlanNode extends infer N ? (N extends PlanNode ? Omit<N, 'id' | 'lookback'> : never) : never;

class Builder {
  readonly nodes: PlanNode[] = [];
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly source: string,
    private readonly catalog: IndicatorCatalog,
  ) {}

  private emit(body: NodeBody, key: string, lookback: number): number {
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const id = this.nodes.length;
    this.nodes.push({ ...body, id, lookback } as PlanNode);
    this.byKey.set(key, id);
    return id;
  }

  private lb(...ids: number[]): number {
    let m = 0;
    for (const id of ids) m = Math.max(m, this.nodes[id].lookback);
    return m;
  }

  lower(ir: IrNode): number {
    if (
      ir.op === 'unary' ||
      ir.op === 'binary' ||
      ir.op === 'list' ||
      ir.op === 'index' ||
      ir.op === 'func'
    ) {
      const folded = constValueOf(ir);
      if (folded !== undefined) return this.constant(folded, ir.span);
    }
    switch (ir.op) {
      case 'const':
        return this.constant(ir.value, ir.span);
      case 'column':
        return this.emit({ op: 'column', name: ir.name, type: ir.type, span: ir.span }, `col:${ir.name}`, 0);
      case 'var':
        return this.emit({ op: 'var', name: ir.name, type: ir.type, span: ir.span }, `var:${ir.name}`, 0);
      case 'list': {
        const items = ir.items.map((it) => this.lower(it));
        return this.emit({ op: 'list', items, type: ir.type, span: ir.span }, `list:${items.join(',')}`, 0);
      }
      case 'unary': {
        const operand = this.lower(ir.operand);
        return this.emit(
          { op: 'unary', operator: ir.operator, operand, type: ir.type, span: ir.span },
          `un:${ir.operator}:${operand}`,
          this.lb(operand),
        );
      }
      case 'binary': {
        const left = this.lower(ir.left);
        const right = this.lower(ir.right);
        return this.emit(
          { op: 'binary', operator: ir.operator, left, right, type: ir.type, span: ir.span },
          `bin:${ir.operator}:${left}:${right}`,
          this.lb(left, right),
        );
      }
      case 'member': {
        const object = this.lower(ir.object);
        return this.emit(
          { op: 'member', object, property: ir.property, type: ir.type, span: ir.span },
          `mem:${object}:${JSON.stringify(ir.property)}`,
          this.lb(object),
        );
      }
      case 'index': {
        const object = this.lower(ir.object);
        const index = this.lower(ir.index);
        return this.emit(
          { op: 'index', object, index, type: ir.type, span: ir.span },
          `idx:${object}:${index}`,
          this.lb(object, index),
        );
      }
      case 'func': {
        const args = ir.args.map((a) => this.lower(a));
        return this.emit(
          { op: 'func', name: ir.name, args, type: ir.type, span: ir.span },
          `fn:${ir.name}:${args.join(',')}`,
          this.lb(...args),
        );
      }
      case 'indicator': {
        const inputs = ir.inputs.map((it) => this.lower(it));
        const ind = this.catalog.get(ir.id);
        const own = ind === undefined ? 0 : this.lookbackOf(ind, ir);
        return this.emit(
          {
            op: 'indicator',
            indicator: ir.id,
            inputs,
            params: ir.params,
            outputs: ir.outputs,
            type: ir.type,
            span: ir.span,
          },
          `ind:${ir.id}:${inputs.join(',')}:${JSON.stringify(ir.params)}`,
          this.lb(...inputs) + own,
        );
      }
    }
  }

  /** Cross-parameter checks (e.g. fast < slow) fire here, so they get the call's position. */
  private lookbackOf(ind: Indicator, ir: IrIndicator): number {
    try {
      return ind.lookback(ir.params);
    } catch (e) {
      const code = isTaError(e) ? e.code : 'E_PARAM_INVALID';
      const msg = e instanceof Error ? e.message : String(e);
      throw exprError(code, msg.startsWith(`${ir.id}:`) ? msg : `${ir.id}: ${msg}`, this.source, ir.span, {
        cause: e,
      });
    }
  }

  private constant(value: ConstValue, span: Span): number {
    return this.emit(
      { op: 'const', value, type: constType(value), span },
      `const:${JSON.stringify(value)}`,
      0,
    );
  }
}

/**
 * Plans a checked IR tree. `catalog` supplies indicator lookbacks.
 *
 * @example
 * ```ts
 * planExpression(src, ir, catalog).lookback // 199 for `close > sma(close, 200) and rsi(close, 14) < 30`
 * ```
 */
export function planExpression(source: string, ir: IrNode, catalog: IndicatorCatalog): Plan {
  const b = new Builder(source, catalog);
  const root = b.lower(ir);
  const nodes = b.nodes;
  return { version: 1, source, nodes, root, type: nodes[root].type, lookback: nodes[root].lookback };
}
