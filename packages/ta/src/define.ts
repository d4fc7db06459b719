/**
 * Turns an indicator definition (metadata + machine + optional fast batch loop)
 * into an {@link Indicator}: parameter resolution and validation, input checks,
 * lookback, and the batch/stream plumbing all live here once.
 */
import { TaError } from './errors.js';
import type { ComputeOptions, Indicator, IndicatorMeta, ParamSpec } from './indicator.js';
import { runMachine, type Machine } from './machine.js';

/** Resolved parameters: every declared parameter present with a validated value. */
export type Params = Readonly<Record<string, number>>;

/** What an indicator module declares. */
export interface IndicatorDef extends IndicatorMeta {
  /** Leading NaN count for resolved parameters. */
  lookback(p: Params): number;
  /** Fresh streaming machine for resolved parameters. */
  machine(p: Params): Machine;
  /**
   * Optional dedicated batch loop (for speed). Must be bit-identical to running the
   * machine; the streaming property tests check this for every indicator.
   */
  batch?(ins: readonly Float64Array[], p: Params, out?: readonly Float64Array[]): Float64Array[];
  /** Extra cross-parameter checks (e.g. fast < slow); throw TaError. */
  check?(p: Params): void;
}

/** A built-in indicator: the public {@link Indicator} plus access to its machine. */
export interface BatonIndicator extends Indicator {
  /** Validates `params` (defaults applied) and returns the resolved set. */
  resolve(params?: Readonly<Record<string, number | undefined>>): Params;
  /** Fresh streaming machine; `params` are resolved and validated first. */
  machine(params?: Readonly<Record<string, number | undefined>>): Machine;
}

/** True for indicator objects that carry a streaming machine. */
export function hasMachine(ind: Indicator): ind is BatonIndicator {
  return (
    typeof (ind as Partial<BatonIndicator>).machine === 'function' &&
    typeof (ind as Partial<BatonIndicator>).resolve === 'function'
  );
}

/** Validates and completes parameters against the specs. */
export function resolveParams(
  meta: IndicatorMeta,
  params: Readonly<Record<string, number | undefined>> = {},
): Params {
  const out: Record<string, number> = {};
  const known = new Set(meta.params.map((s) => s.name));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      const names = meta.params.map((s) => s.name).join(', ') || 'none';
      throw new TaError(
        'E_PARAM_INVALID',
        `${meta.id}: unknown parameter "${key}"; its parameters are: ${names}`,
        { details: { indicator: meta.id, param: key } },
      );
    }
  }
  for (const spec of meta.params) {
    const raw = params[spec.name];
    const v = raw === undefined ? spec.default : raw;
    checkParam(meta.id, spec, v);
    out[spec.name] = v;
  }
  return out;
}

function checkParam(id: string, spec: ParamSpec, v: unknown): asserts v is number {
  const where = `${id}: parameter "${spec.name}"`;
  const details = { indicator: id, param: spec.name, value: typeof v === 'number' ? v : String(v) };
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new TaError('E_PARAM_INVALID', `${where} must be a number, got ${String(v)}`, { details });
  }
  if (spec.type === 'int' && !Number.isInteger(v)) {
    throw new TaError(
      'E_PARAM_INVALID',
      `${where} must be a whole number, got ${v}; round it (e.g. ${Math.round(v)})`,
      { details },
    );
  }
  if (v < spec.min || v > spec.max) {
    const code = spec.window && v < spec.min ? 'E_PERIOD_INVALID' : 'E_PARAM_INVALID';
    throw new TaError(code, `${where} must be between ${spec.min} and ${spec.max}, got ${v}`, { details });
  }
}

/** Checks input count and lengths; returns the common length. */
export function checkInputs(meta: IndicatorMeta, ins: readonly Float64Array[]): number {
  if (ins.length !== meta.inputs.length) {
    throw new TaError(
      'E_INPUT_INVALID',
      `${meta.id} takes ${meta.inputs.length} input series (${meta.inputs.join(', ')}), got ${ins.length}`,
      {
        details: { indicator: meta.id, expected: meta.inputs.length, got: ins.length },
      },
    );
  }
  const n = ins.length > 0 ? ins[0].length : 0;
  for (let k = 0; k < ins.length; k++) {
    if (!(ins[k] instanceof Float64Array)) {
      throw new TaError(
        'E_INPUT_INVALID',
        `${meta.id}: input "${meta.inputs[k]}" must be a Float64Array; convert with Float64Array.from(values)`,
        { details: { indicator: meta.id, input: meta.inputs[k] } },
      );
    }
    if (ins[k].length !== n) {
      throw new TaError(
        'E_LENGTH_MISMATCH',
        `${meta.id}: input "${meta.inputs[k]}" has ${ins[k].length} values but "${meta.inputs[0]}" has ${n}; all inputs must have the same length`,
        {
          details: { indicator: meta.id, lengths: ins.map((a) => a.length) },
        },
      );
    }
  }
  return n;
}

/** True when two arrays share any byte of memory. */
function overlaps(a: Float64Array, b: Float64Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

/**
 * Checks caller-owned output buffers: one Float64Array per output, each of the inputs' length,
 * none sharing memory with an input or another output (a kernel reads inputs behind the bar it
 * writes, so writing over an input would change what it reads).
 */
export function checkOutputs(
  meta: IndicatorMeta,
  ins: readonly Float64Array[],
  out: readonly Float64Array[],
  n: number,
): readonly Float64Array[] {
  const fail = (what: string, details: Record<string, unknown> = {}): never => {
    throw new TaError('E_OUTPUT_INVALID', `${meta.id}: ${what}`, {
      details: { indicator: meta.id, ...details },
    });
  };
  if (!Array.isArray(out) || out.length !== meta.outputs.length) {
    fail(
      `out must be an array of ${meta.outputs.length} Float64Array${meta.outputs.length === 1 ? '' : 's'} (${meta.outputs.join(', ')}), got ${Array.isArray(out) ? `${out.length}` : typeof out}`,
      { expected: meta.outputs.length },
    );
  }
  out.forEach((o, k) => {
    const name = meta.outputs[k];
    if (!(o instanceof Float64Array)) fail(`out[${k}] (${name}) must be a Float64Array`, { output: name });
    if (o.length !== n)
      fail(
        `out[${k}] (${name}) has ${o.length} values but the inputs have ${n}; pass buffers of the inputs' length`,
        {
          output: name,
          length: o.length,
          expected: n,
        },
      );
    ins.forEach((x, j) => {
      if (overlaps(o, x))
        fail(
          `out[${k}] (${name}) shares memory with input "${meta.inputs[j]}"; outputs cannot be computed in place`,
          {
            output: name,
            input: meta.inputs[j],
          },
        );
    });
    for (let j = 0; j < k; j++)
      if (overlaps(o, out[j]))
        fail(
          `out[${k}] (${name}) shares memory with out[${j}] (${meta.outputs[j]}); each output needs its own buffer`,
          {
            output: name,
          },
        );
  });
  return out;
}

/** Rejects window parameters longer than the input (the issue asks for an error, where TA-Lib returns all-NaN). */
function checkWindows(meta: IndicatorMeta, p: Params, n: number): void {
  if (n === 0) return;
  for (const spec of meta.params) {
    if (spec.window && p[spec.name] > n) {
      throw new TaError(
        'E_PERIOD_INVALID',
        `${meta.id}: parameter "${spec.name}" is ${p[spec.name]} but the input has only ${n} bars; use a period of at most ${n} or pass more data`,
        {
          details: { indicator: meta.id, param: spec.name, value: p[spec.name], length: n },
        },
      );
    }
  }
}

/** Builds a registered indicator from its definition. */
export function defineIndicator(def: IndicatorDef): BatonIndicator {
  const { lookback, machine, batch, check, ...meta } = def;
  const resolve = (params?: Readonly<Record<string, number | undefined>>): Params => {
    const p = resolveParams(meta, params);
    check?.(p);
    return p;
  };
  return Object.freeze({
    ...meta,
    resolve,
    lookback: (params: Readonly<Record<string, number | undefined>> = {}) => lookback(resolve(params)),
    machine: (params?: Readonly<Record<string, number | undefined>>) => machine(resolve(params)),
    compute(
      ins: readonly Float64Array[],
      params: Readonly<Record<string, number | undefined>> = {},
      options: ComputeOptions = {},
    ): Float64Array[] {
      const p = resolve(params);
      const n = checkInputs(meta, ins);
      checkWindows(meta, p, n);
      const out = options.out === undefined ? undefined : checkOutputs(meta, ins, options.out, n);
      if (batch) return batch(ins, p, out);
      return runMachine(machine(p), ins, n, meta.outputs.length, out);
    },
  });
}

/** Shorthand for a window-length parameter spec. */
export function period(def: number, description = 'Number of bars in the window', min = 1): ParamSpec {
  return { name: 'period', type: 'int', default: def, min, max: 100_000, description, window: true };
}

/** Shorthand for an int parameter spec. */
export function intParam(
  name: string,
  def: number,
  description: string,
  min = 1,
  max = 100_000,
  window = true,
): ParamSpec {
  return { name, type: 'int', default: def, min, max, description, window };
}

/** Shorthand for a float parameter spec. */
export function floatParam(name: string, def: number, description: string, min = 0, max = 1e9): ParamSpec {
  return { name, type: 'float', default: def, min, max, description };
}
