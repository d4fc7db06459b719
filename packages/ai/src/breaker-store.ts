// Circuit breakers kept in the store: every process reads and moves the same state. A success on a
// closed breaker with no recent failures writes nothing, so the healthy path costs one read per call.
import type { Driver } from '@baton/core';
import {
  afterFailure,
  afterSuccess,
  closedBreaker,
  phaseAt,
  reopensAt,
  type BreakerLimits,
  type BreakerPhase,
  type BreakerState,
} from './breaker.js';

interface BreakerRow {
  provider: string;
  phase: BreakerPhase;
  failures: number[];
  opened_at: number | null;
  recovery_ms: number;
  successes: number;
}

const toState = (r: BreakerRow): BreakerState => ({
  phase: r.phase,
  failures: r.failures.map(Number),
  openedAt: r.opened_at,
  recoveryMs: r.recovery_ms,
  successes: r.successes,
});

/** What `baton ai breakers` and the API show for one provider. */
export interface BreakerView {
  provider: string;
  phase: BreakerPhase;
  recentFailures: number;
  /** When an open breaker lets a trial through (epoch ms). */
  reopensAt: number | null;
  recoveryMs: number;
}

export class BreakerStore {
  constructor(private readonly driver: Driver) {}

  /** The stored state of each named provider; a provider with no row is closed. */
  async load(providers: readonly string[]): Promise<Map<string, BreakerState>> {
    const rows = await this.driver.query<BreakerRow>(
      'SELECT provider, phase, failures, opened_at, recovery_ms, successes FROM baton.ai_breakers WHERE provider = ANY($1)',
      [providers],
    );
    return new Map(rows.map((r) => [r.provider, toState(r)]));
  }

  /** Records one outcome; `seen` is the state the caller read, to skip writes that change nothing. */
  async record(
    provider: string,
    limits: BreakerLimits,
    outcome: 'success' | 'failure',
    seen: BreakerState | undefined,
    now = Date.now(),
  ): Promise<BreakerState> {
    if (outcome === 'success' && (!seen || (seen.phase === 'closed' && seen.failures.length === 0)))
      return seen ?? closedBreaker(limits);
    return this.driver.transaction(async (tx) => {
      const [row] = await tx.query<BreakerRow>(
        'SELECT provider, phase, failures, opened_at, recovery_ms, successes FROM baton.ai_breakers WHERE provider = $1 FOR UPDATE',
        [provider],
      );
      const before = row ? toState(row) : closedBreaker(limits);
      const after =
        outcome === 'success' ? afterSuccess(before, limits, now) : afterFailure(before, limits, now);
      if (after !== before)
        await tx.query(
          `INSERT INTO baton.ai_breakers (provider, phase, failures, opened_at, recovery_ms, successes, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (provider) DO UPDATE SET phase = $2, failures = $3, opened_at = $4, recovery_ms = $5,
             successes = $6, updated_at = $7`,
          [provider, after.phase, after.failures, after.openedAt, after.recoveryMs, after.successes, now],
        );
      return after;
    });
  }

  /** Every stored breaker as it stands at `now`. */
  async list(now = Date.now()): Promise<BreakerView[]> {
    const rows = await this.driver.query<BreakerRow>(
      'SELECT provider, phase, failures, opened_at, recovery_ms, successes FROM baton.ai_breakers ORDER BY provider',
    );
    return rows.map((r) => {
      const s = toState(r);
      return {
        provider: r.provider,
        phase: phaseAt(s, now),
        recentFailures: s.failures.length,
        reopensAt: phaseAt(s, now) === 'open' ? reopensAt(s) : null,
        recoveryMs: s.recoveryMs,
      };
    });
  }

  /** Closes a provider's breaker by hand (`baton ai breakers reset`). */
  async reset(provider: string): Promise<void> {
    await this.driver.query('DELETE FROM baton.ai_breakers WHERE provider = $1', [provider]);
  }
}
