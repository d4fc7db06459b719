/**
 * Constant evaluation over the IR, shared by the type checker (indicator parameters
 * must be constants) and the planner (constant folding). Uses the same operator
 * semantics as the evaluator (ops.ts), so folding never changes a result.
 */
import type { BinaryOp } from './ast.js';
import type { ConstValue, ExprType, IrNode } from './ir.js';
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
import { callHelper, scalarFunction } from './functions.js';

/** The static type of a constant. */
export function constType(v: ConstValue): ExprType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  switch (typeof v) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    default:
      return 'bool';
  }
}

/**
 * Evaluates an IR subtree made only of constants and operators on them; returns
 * `undefined` when it is not constant or would produce a non-finite number (which
 * JSON cannot hold). Used to fold constants and to read indicator parameters.
 */
export function constValueOf(node: IrNode): ConstValue | undefined {
  switch (node.op) {
    case 'const':
      return node.value;
    case 'list': {
      const items: ConstValue[] = [];
      for (const it of node.items) {
        const v = constValueOf(it);
        if (v === undefined) return undefined;
        items.push(v);
      }
      return items;
    }
    case 'unary': {
      const v = constValueOf(node.operand);
      if (v === undefined) return undefined;
      if (node.operator === '-') return typeof v === 'number' ? finite(-v) : undefined;
      return typeof v === 'boolean' ? !v : undefined;
    }
    case 'binary': {
      const l = constValueOf(node.left);
      if (l === undefined) return undefined;
      const r = constValueOf(node.right);
      if (r === undefined) return undefined;
      return foldBinary(node.operator, l, r);
    }
    case 'index': {
      const o = constValueOf(node.object);
      const i = o === undefined ? undefined : constValueOf(node.index);
      if (i === undefined || !Array.isArray(o) || typeof i !== 'number') return undefined;
      const v = indexValue(o, i);
      return v === undefined ? undefined : (v as ConstValue);
    }
    case 'func': {
      const args: ConstValue[] = [];
      for (const a of node.args) {
        const v = constValueOf(a);
        if (v === undefined) return undefined;
        args.push(v);
      }
      // A constant call that would fail is left to evaluation, which reports it with its position.
      try {
        const fn = scalarFunction(node.name);
        const v = fn && callHelper(fn, args);
        if (typeof v === 'number') return finite(v);
        return v === undefined || isPlainObject(v) ? undefined : (v as ConstValue);
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}

function foldBinary(op: BinaryOp, l: ConstValue, r: ConstValue): ConstValue | undefined {
  if (ARITH_OPS.has(op)) {
    return typeof l === 'number' && typeof r === 'number' ? finite(arith(op, l, r)) : undefined;
  }
  if (ORDER_OPS.has(op)) {
    return (typeof l === 'number' && typeof r === 'number') ||
      (typeof l === 'string' && typeof r === 'string')
      ? order(op, l, r)
      : undefined;
  }
  switch (op) {
    case '==':
      return plainEquals(l, r);
    case '!=':
      return !plainEquals(l, r);
    case 'and':
      return typeof l === 'boolean' && typeof r === 'boolean' ? l && r : undefined;
    case 'or':
      return typeof l === 'boolean' && typeof r === 'boolean' ? l || r : undefined;
    case 'in':
    case 'not in':
      if (!(typeof r === 'string' || Array.isArray(r))) return undefined;
      return contains(r, l) === (op === 'in');
    default:
      return undefined;
  }
}
