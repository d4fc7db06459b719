// The circuit breaker of one provider, as a pure state machine over epoch milliseconds. Its state
// lives in the store (breaker-store.ts) so every process sees and moves the same breaker.
import type { BreakerSettings } from './config.js';

export type BreakerPhase = 'closed' | 'open' | 'half_open';

export interface BreakerState {
  phase: BreakerPhase;
  /** When each failure counted in the current window happened. */
  failures: number[];
  /** When the breaker last opened. */
  openedAt: number | null;
  /** How long it stays open before a trial; grows by the multiplier each time a trial fails. */
  recoveryMs: number;
  /** Successes since it went half-open. */
  successes: number;
}

/** The settings in milliseconds, defaults filled in (5 in 60 s, 30 s recovery up to 300 s, ×2). */
export interface BreakerLimits {
  failureThreshold: number;
  failureWindowMs: number;
  recoveryMs: number;
  successThreshold: number;
  maxRecoveryMs: number;
  multiplier: number;
}

export function breakerLimits(s: BreakerSettings = {}): BreakerLimits {
  return {
    failureThreshold: s.failure_threshold ?? 5,
    failureWindowMs: (s.failure_window ?? 60) * 1000,
    recoveryMs: (s.recovery_timeout ?? 30) * 1000,
    successThreshold: s.success_threshold ?? 3,
    maxRecoveryMs: (s.max_recovery_timeout ?? 300) * 1000,
    multiplier: s.backoff_multiplier ?? 2,
  };
}

export function closedBreaker(limits: BreakerLimits): BreakerState {
  return { phase: 'closed', failures: [], openedAt: null, recoveryMs: limits.recoveryMs, successes: 0 };
}

/** The phase at `now`: an open breaker whose recovery time has passed is half-open. */
export function phaseAt(state: BreakerState, now: number): BreakerPhase {
  if (state.phase === 'open' && state.openedAt !== null && now >= state.openedAt + state.recoveryMs)
    return 'half_open';
  return state.phase;
}

/** When an open breaker lets a trial through. */
export function reopensAt(state: BreakerState): number | null {
  return state.phase === 'open' && state.openedAt !== null ? state.openedAt + state.recoveryMs : null;
}

/** The state after a provider fault at `now`. */
export function afterFailure(state: BreakerState, limits: BreakerLimits, now: number): BreakerState {
  const phase = phaseAt(state, now);
  if (phase === 'half_open')
    // A failed trial: open again, for longer.
    return {
      phase: 'open',
      failures: [],
      openedAt: now,
      recoveryMs: Math.min(state.recoveryMs * limits.multiplier, limits.maxRecoveryMs),
      successes: 0,
    };
  if (phase === 'open') return state;
  const failures = [...state.failures.filter((t) => t > now - limits.failureWindowMs), now];
  if (failures.length >= limits.failureThreshold)
    return { phase: 'open', failures: [], openedAt: now, recoveryMs: state.recoveryMs, successes: 0 };
  return { ...state, failures };
}

/** The state after a success at `now`; the same object when nothing changes. */
export function afterSuccess(state: BreakerState, limits: BreakerLimits, now: number): BreakerState {
  const phase = phaseAt(state, now);
  if (phase === 'half_open') {
    const successes = state.successes + 1;
    if (successes >= limits.successThreshold) return closedBreaker(limits);
    return { ...state, phase: 'half_open', successes };
  }
  return state;
}
