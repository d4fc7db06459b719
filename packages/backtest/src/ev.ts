// The EV gate's estimators: Beta-Binomial counts decayed as an EWMA, one per (session, spread band,
// RV band) bucket plus a global one, pooled with neighbours, and read through a Wilson lower bound.
import type { RvBand } from './config.js';

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

const NEIGHBOURS: Record<RvBand, readonly RvBand[]> = { mid: ['low', 'high'], low: ['mid'], high: ['mid'] };
const NEIGHBOUR_WEIGHT = 0.2;
const GLOBAL_WEIGHT = 0.3;

/** The estimators of one run. Bucket keys are `SESSION:SPREADBAND:RVBAND`, as in state.json. */
export class EvEstimators {
  readonly global: BetaCounts = { alpha: 1, beta: 1 };
  readonly buckets = new Map<string, BetaCounts>();

  constructor(
    readonly decay: number,
    readonly conf: number,
    readonly priorAlpha: number,
    readonly priorBeta: number,
  ) {}

  /** The bucket of a key, created (α = β = 1) on first use. */
  bucket(key: string): BetaCounts {
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { alpha: 1, beta: 1 };
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Pooled Wilson lower bound for `session:band` and RV band `rv`. */
  pooledLcb(prefix: string, rv: RvBand): number {
    const own = this.bucket(`${prefix}:${rv}`);
    let a = own.alpha + this.priorAlpha;
    let b = own.beta + this.priorBeta;
    for (const n of NEIGHBOURS[rv]) {
      const nb = this.bucket(`${prefix}:${n}`);
      a += NEIGHBOUR_WEIGHT * (nb.alpha + this.priorAlpha);
      b += NEIGHBOUR_WEIGHT * (nb.beta + this.priorBeta);
    }
    a += GLOBAL_WEIGHT * (this.global.alpha + this.priorAlpha);
    b += GLOBAL_WEIGHT * (this.global.beta + this.priorBeta);
    return wilsonLower(a, b, this.conf);
  }

  /** Records an outcome in [0, 1] for a bucket, then for the global estimator. */
  update(key: string, outcome: number): void {
    decayInto(this.bucket(key), outcome, this.decay);
    decayInto(this.global, outcome, this.decay);
  }
}

function decayInto(c: BetaCounts, w: number, decay: number): void {
  c.alpha = (1 - decay) * c.alpha + w;
  c.beta = (1 - decay) * c.beta + (1 - w);
}
