// The EV gate's estimators: Beta-Binomial counts decayed as an EWMA, one per (session, spread band,
// RV band) bucket plus a global one, pooled with neighbours, and read through a Wilson lower bound.
import { RV_BANDS, SESSIONS, SPREAD_BANDS, type RvBand, type Session, type SpreadBand } from './config.js';

export interface BetaCounts {
  alpha: number;
  beta: number;
}

/** Wilson lower bound of the win rate for counts (a, b) at the given confidence (spec 5.4). */
export function wilsonLower(a: number, b: number, conf: number): number {
  const n = a + b;
  if (n <= 0) return 0;
  const p = a / n;
  const z = conf >= 0.95 ? 1.6448536269514722 : 1.2815515655446004;
  const z2 = z * z;
  const lcb = (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)) / (1 + z2 / n);
  return Math.max(0, lcb);
}

/** A bucket by number (session, spread band, RV band), so the bar loop builds no key strings. */
export type BucketIndex = number;

export function bucketIndex(session: Session, band: SpreadBand, rv: RvBand): BucketIndex {
  return SESSIONS.indexOf(session) * 9 + SPREAD_BANDS.indexOf(band) * 3 + RV_BANDS.indexOf(rv);
}

/** `SESSION:SPREADBAND:RVBAND`, the key state.json uses. */
export const BUCKET_KEYS: readonly string[] = SESSIONS.flatMap((s) =>
  SPREAD_BANDS.flatMap((b) => RV_BANDS.map((r) => `${s}:${b}:${r}`)),
);

// Neighbours differ in the RV band only: mid ↔ low and high.
const NEIGHBOURS: readonly (readonly number[])[] = [[1], [0, 2], [1]];
const NEIGHBOUR_WEIGHT = 0.2;
const GLOBAL_WEIGHT = 0.3;

/** The estimators of one run. */
export class EvEstimators {
  readonly global: BetaCounts = { alpha: 1, beta: 1 };
  /** Buckets in the order they were first used (state.json lists them). */
  readonly buckets = new Map<string, BetaCounts>();
  private readonly slots: (BetaCounts | undefined)[] = new Array(BUCKET_KEYS.length);

  constructor(
    readonly decay: number,
    readonly conf: number,
    readonly priorAlpha: number,
    readonly priorBeta: number,
  ) {}

  /** The bucket at an index, created (α = β = 1) on first use. */
  bucket(index: BucketIndex): BetaCounts {
    let b = this.slots[index];
    if (b === undefined) {
      b = this.buckets.get(BUCKET_KEYS[index]!) ?? { alpha: 1, beta: 1 };
      this.slots[index] = b;
      this.buckets.set(BUCKET_KEYS[index]!, b);
    }
    return b;
  }

  /** Restores a bucket from state.json. */
  restore(key: string, counts: BetaCounts): void {
    const index = BUCKET_KEYS.indexOf(key);
    const b = { alpha: counts.alpha, beta: counts.beta };
    this.buckets.set(key, b);
    if (index >= 0) this.slots[index] = b;
  }

  /** Uses a bucket and its RV neighbours, as a pooled read does, without computing the bound. */
  touch(index: BucketIndex): void {
    this.bucket(index);
    const base = index - (index % 3);
    for (const n of NEIGHBOURS[index % 3]!) this.bucket(base + n);
  }

  /** Pooled Wilson lower bound for a bucket: its counts, 0.2 of each RV neighbour's, 0.3 of the global ones. */
  pooledLcb(index: BucketIndex): number {
    const own = this.bucket(index);
    let a = own.alpha + this.priorAlpha;
    let b = own.beta + this.priorBeta;
    const base = index - (index % 3);
    for (const n of NEIGHBOURS[index % 3]!) {
      const nb = this.bucket(base + n);
      a += NEIGHBOUR_WEIGHT * (nb.alpha + this.priorAlpha);
      b += NEIGHBOUR_WEIGHT * (nb.beta + this.priorBeta);
    }
    a += GLOBAL_WEIGHT * (this.global.alpha + this.priorAlpha);
    b += GLOBAL_WEIGHT * (this.global.beta + this.priorBeta);
    return wilsonLower(a, b, this.conf);
  }

  /** Records an outcome in [0, 1] for a bucket, then for the global estimator. */
  update(index: BucketIndex, outcome: number): void {
    decayInto(this.bucket(index), outcome, this.decay);
    decayInto(this.global, outcome, this.decay);
  }
}

function decayInto(c: BetaCounts, w: number, decay: number): void {
  c.alpha = (1 - decay) * c.alpha + w;
  c.beta = (1 - decay) * c.beta + (1 - w);
}
