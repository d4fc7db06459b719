/**
 * Small incremental building blocks ("cells") that the streaming machines are
 * composed from. Each cell keeps its state in plain fields so that state.ts can
 * snapshot it, and each follows the package's NaN policy:
 * - window cells return NaN for any window that holds a NaN, and recover once it has left;
 * - recursive cells (EMA, Wilder) return NaN for a NaN input and keep their state unchanged.
 *
 * The arithmetic follows TA-Lib's order of operations, so that results match TA-Lib
 * to the last bits where TA-Lib defines the indicator.
 */

/** Ring buffer of the last `size` values, with a count of the NaNs it holds. */
export class Ring {
  buf: Float64Array;
  pos = 0;
  count = 0;
  nan = 0;
  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }
  /** Appends `x`, returns the value it evicted (NaN-aware count kept), or NaN when not full yet. */
  push(x: number): number {
    let old = NaN;
    if (this.count === this.size) {
      old = this.buf[this.pos];
      if (old !== old) this.nan--;
    } else this.count++;
    if (x !== x) this.nan++;
    this.buf[this.pos] = x;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
    return old;
  }
  get full(): boolean {
    return this.count === this.size;
  }
  /** k-th value back: 0 = newest. */
  back(k: number): number {
    let j = this.pos - 1 - k;
    if (j < 0) j += this.size;
    return this.buf[j];
  }
}

/**
 * Rolling sum in TA-Lib's order (add the new value, emit, subtract the trailing one).
 * The sum holds the newest `period - 1` values between calls.
 */
export class SumWindow {
  ring: Ring;
  sum = 0;
  constructor(readonly period: number) {
    this.ring = new Ring(period);
  }
  /** Window sum including `x`, or NaN in warm-up or when the window holds a NaN. */
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (x === x) this.sum += x;
    if (!r.full) return NaN;
    const out = r.nan > 0 ? NaN : this.sum;
    const trailing = r.buf[r.pos];
    if (trailing === trailing) this.sum -= trailing;
    return out;
  }
}

/** Rolling mean and population variance in TA-Lib's order (sums of x and x²). */
export class VarWindow {
  ring: Ring;
  s1 = 0;
  s2 = 0;
  mean = NaN;
  constructor(readonly period: number) {
    this.ring = new Ring(period);
  }
  /** Variance of the window ending at `x` (mean left in `this.mean`), NaN in warm-up or with NaN inside. */
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (x === x) {
      this.s1 += x;
      this.s2 += x * x;
    }
    if (!r.full) return (this.mean = NaN);
    const p = this.period;
    const m1 = this.s1 / p;
    const m2 = this.s2 / p;
    const t = r.buf[r.pos];
    if (t === t) {
      this.s1 -= t;
      this.s2 -= t * t;
    }
    if (r.nan > 0) return (this.mean = NaN);
    this.mean = m1;
    return m2 - m1 * m1;
  }
}

/**
 * Exponential moving average, k = 2/(period+1) unless given. `seedFirst` false:
 * seeded with the SMA of the first `period` values (TA-Lib); true: seeded with the
 * first value (TradingView, Tulip).
 */
export class EmaCell {
  n = 0;
  sum = 0;
  prev = NaN;
  constructor(
    readonly period: number,
    readonly k: number = 2 / (period + 1),
    readonly seedFirst = false,
  ) {}
  push(x: number): number {
    if (x !== x) return NaN;
    if (this.n >= this.period || (this.seedFirst && this.n > 0)) {
      this.prev = (x - this.prev) * this.k + this.prev;
      return this.prev;
    }
    if (this.seedFirst) {
      this.n = 1;
      return (this.prev = x);
    }
    this.sum += x;
    if (++this.n < this.period) return NaN;
    return (this.prev = this.sum / this.period);
  }
}

/** Wilder's smoothing (RMA): SMA seed, then (prev·(n−1) + x)/n, TA-Lib's order. */
export class WilderCell {
  n = 0;
  sum = 0;
  prev = NaN;
  constructor(readonly period: number) {}
  push(x: number): number {
    if (x !== x) return NaN;
    if (this.n >= this.period) {
      this.prev = (this.prev * (this.period - 1) + x) / this.period;
      return this.prev;
    }
    this.sum += x;
    if (++this.n < this.period) return NaN;
    return (this.prev = this.sum / this.period);
  }
}

/**
 * Rolling maximum (or minimum with `isMin`) and its position, using TA-Lib's
 * MAX/MAXINDEX algorithm: rescan the window only when the extreme leaves it.
 * `idx` is the absolute index (count of values pushed) of the extreme.
 */
export class ExtremeWindow {
  ring: Ring;
  t = -1;
  idx = -1;
  val = NaN;
  constructor(
    readonly period: number,
    readonly isMin = false,
  ) {
    this.ring = new Ring(period);
  }
  private better(a: number, b: number): boolean {
    return this.isMin ? a < b : a > b;
  }
  /** Returns the extreme of the window ending at `x`; NaN in warm-up or with NaN inside. */
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    this.t++;
    if (!r.full) return NaN;
    const trailing = this.t - this.period + 1;
    if (this.idx < trailing || this.val !== this.val) {
      // Rescan the window, oldest first; ties keep the oldest (TA-Lib).
      this.idx = trailing;
      this.val = r.back(this.period - 1);
      for (let k = this.period - 2; k >= 0; k--) {
        const v = r.back(k);
        if (this.val !== this.val || this.better(v, this.val)) {
          this.idx = this.t - k;
          this.val = v;
        }
      }
    } else if (x === x && (this.isMin ? x <= this.val : x >= this.val)) {
      // Ties on the incremental path move to the newest (TA-Lib).
      this.idx = this.t;
      this.val = x;
    }
    return r.nan > 0 ? NaN : this.val;
  }
}
