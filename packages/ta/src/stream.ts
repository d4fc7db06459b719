/**
 * Streaming form of every indicator: one class serves all of them.
 *
 * ```ts
 * const s = createStream('rsi', { period: 14 });
 * s.update(101.5);            // commits a closed bar → { value: NaN } during warm-up
 * s.peek(102);                // value for the bar still forming, state untouched
 * const snap = s.snapshot();  // JSON-serializable
 * createStream('rsi', { period: 14 }).restore(snap);
 * ```
 *
 * `update` over a series gives bit-identical values to the batch `compute`.
 */
import { TaError } from './errors.js';
import type { Indicator, InputName } from './indicator.js';
import { hasMachine, checkInputs, resolveParams, type Params } from './define.js';
import type { Machine } from './machine.js';
import { capture, fromJson, restore, toJson, type JsonValue, type StateTree } from './state.js';
import { getIndicator, suggestName } from './registry.js';

/**
 * One bar. A bare number feeds a single-input indicator; an array gives the inputs
 * in the indicator's `inputs` order; an object names them (`series` falls back to
 * `close`, `series2` has no fallback).
 */
export type BarInput = number | readonly number[] | Readonly<Partial<Record<InputName, number>>>;

/** Outputs of one bar, keyed by output name (`value` for single-output indicators). */
export type StreamValues = Readonly<Record<string, number>>;

/** JSON-serializable state of a stream. */
export interface StreamSnapshot {
  /** Snapshot format version. */
  readonly v: 1;
  readonly id: string;
  readonly params: Readonly<Record<string, number>>;
  /** Bars committed so far. */
  readonly bars: number;
  readonly state: JsonValue;
}

/** Streams a user indicator without a machine by recomputing over the retained history. */
class RecomputeMachine implements Machine {
  hist: number[][];
  constructor(
    private readonly ind: Indicator,
    private readonly p: Params,
  ) {
    this.hist = ind.inputs.map(() => []);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    for (let k = 0; k < ins.length; k++) this.hist[k].push(ins[k][i]);
    let res: Float64Array[] | undefined;
    try {
      res = this.ind.compute(
        this.hist.map((h) => Float64Array.from(h)),
        this.p,
      );
    } catch (e) {
      if (!(e instanceof TaError && e.code === 'E_PERIOD_INVALID')) throw e;
    }
    const last = this.hist[0]?.length - 1;
    for (let k = 0; k < outs.length; k++) outs[k][i] = res ? res[k][last] : NaN;
  }
}

/** Incremental evaluation of one indicator. Create with {@link createStream}. */
export class IndicatorStream {
  /** The indicator this stream evaluates. */
  readonly indicator: Indicator;
  /** Resolved parameters (defaults applied). */
  readonly params: Readonly<Record<string, number>>;
  private readonly m: Machine;
  private readonly ins: Float64Array[];
  private readonly outs: Float64Array[];
  private committed = 0;

  constructor(indicator: Indicator, params: Readonly<Record<string, number | undefined>> = {}) {
    this.indicator = indicator;
    if (hasMachine(indicator)) {
      this.params = indicator.resolve(params);
      this.m = indicator.machine(this.params);
    } else {
      this.params = resolveParams(indicator, params);
      this.m = new RecomputeMachine(indicator, this.params);
    }
    this.ins = indicator.inputs.map(() => new Float64Array(1));
    this.outs = indicator.outputs.map(() => new Float64Array(1));
  }

  /** Bars committed with {@link update} so far. */
  get bars(): number {
    return this.committed;
  }

  private load(bar: BarInput): void {
    const names = this.indicator.inputs;
    if (typeof bar === 'number') {
      if (names.length !== 1) {
        throw new TaError(
          'E_INPUT_INVALID',
          `${this.indicator.id} takes ${names.length} inputs (${names.join(', ')}); pass an object or an array, not a number`,
        );
      }
      this.ins[0][0] = bar;
      return;
    }
    if (Array.isArray(bar)) {
      if (bar.length !== names.length) {
        throw new TaError(
          'E_LENGTH_MISMATCH',
          `${this.indicator.id} takes ${names.length} inputs (${names.join(', ')}), got an array of ${bar.length}`,
        );
      }
      for (let k = 0; k < names.length; k++) this.ins[k][0] = bar[k] as number;
      return;
    }
    const rec = bar as Readonly<Partial<Record<InputName, number>>>;
    for (let k = 0; k < names.length; k++) {
      const v = rec[names[k]] ?? (names[k] === 'series' ? rec.close : undefined);
      if (typeof v !== 'number') {
        throw new TaError(
          'E_INPUT_INVALID',
          `${this.indicator.id}: bar is missing input "${names[k]}" (needs ${names.join(', ')})`,
        );
      }
      this.ins[k][0] = v;
    }
  }

  private result(): StreamValues {
    const out: Record<string, number> = {};
    const names = this.indicator.outputs;
    for (let k = 0; k < names.length; k++) out[names[k]] = this.outs[k][0];
    return out;
  }

  /** Commits a closed bar and returns its outputs. */
  update(bar: BarInput): StreamValues {
    this.load(bar);
    this.m.step(this.ins, 0, this.outs);
    this.committed++;
    return this.result();
  }

  /** Outputs for a bar that is still forming; the state is left exactly as it was. */
  peek(bar: BarInput): StreamValues {
    this.load(bar);
    const saved = capture(this.m);
    try {
      this.m.step(this.ins, 0, this.outs);
    } finally {
      restore(this.m, saved);
    }
    return this.result();
  }

  /** JSON-serializable copy of the state; feed it to {@link restore}. */
  snapshot(): StreamSnapshot {
    return {
      v: 1,
      id: this.indicator.id,
      params: { ...this.params },
      bars: this.committed,
      state: toJson(capture(this.m)),
    };
  }

  /** Replaces the state with a snapshot taken from a stream of the same indicator and parameters. */
  restore(snap: StreamSnapshot): void {
    const bad = (why: string): never => {
      throw new TaError('E_SNAPSHOT_INVALID', `cannot restore ${this.indicator.id} stream: ${why}`, {
        details: { indicator: this.indicator.id },
      });
    };
    if (snap === null || typeof snap !== 'object' || snap.v !== 1) bad('not a snapshot (version 1 expected)');
    if (snap.id !== this.indicator.id) bad(`snapshot is of "${snap.id}"`);
    for (const [k, v] of Object.entries(this.params)) {
      if (snap.params?.[k] !== v)
        bad(`parameter "${k}" is ${String(snap.params?.[k])} in the snapshot, ${v} here`);
    }
    const tree = fromJson(snap.state);
    if (tree === null || typeof tree !== 'object' || Array.isArray(tree) || tree instanceof Float64Array)
      bad('state is not an object');
    restore(this.m, tree as StateTree);
    this.committed = snap.bars;
  }
}

/**
 * Creates a stream for a registered indicator (by id or alias) or an indicator object.
 * Throws `E_UNKNOWN_FUNCTION` for unknown names and `E_PARAM_INVALID`/`E_PERIOD_INVALID` for bad parameters.
 */
export function createStream(
  indicator: string | Indicator,
  params: Readonly<Record<string, number | undefined>> = {},
): IndicatorStream {
  if (typeof indicator === 'string') {
    const ind = getIndicator(indicator);
    if (!ind) {
      const hint = suggestName(indicator);
      throw new TaError(
        'E_UNKNOWN_FUNCTION',
        `unknown indicator "${indicator}"${hint ? `; did you mean "${hint}"?` : ''} (see listIndicators())`,
        { details: { name: indicator } },
      );
    }
    return new IndicatorStream(ind, params);
  }
  return new IndicatorStream(indicator, params);
}

/** Runs a fresh stream over whole series; used by tests to compare with batch. */
export function streamAll(
  indicator: string | Indicator,
  ins: readonly Float64Array[],
  params: Readonly<Record<string, number | undefined>> = {},
): Float64Array[] {
  const s = createStream(indicator, params);
  const n = checkInputs(s.indicator, ins);
  const outs = s.indicator.outputs.map(() => new Float64Array(n));
  const bar: number[] = new Array<number>(ins.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ins.length; k++) bar[k] = ins[k][i];
    const r = s.update(bar);
    s.indicator.outputs.forEach((name, k) => (outs[k][i] = r[name]));
  }
  return outs;
}
