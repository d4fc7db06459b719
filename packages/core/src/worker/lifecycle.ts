import { isConnectionError } from '../driver/postgres.js';
import { MAX_TIMER_MS } from '../timers.js';
import type { Logger } from '../logger.js';

export type WorkerPhase = 'new' | 'running' | 'stopping' | 'stopped';

/**
 * Where a worker is in its life, shared by its parts: they claim, dispatch and retry only while it
 * allows, and each periodic task it starts is cleared when it stops.
 */
export class Lifecycle {
  phase: WorkerPhase = 'new';
  private readonly intervals: NodeJS.Timeout[] = [];

  constructor(private readonly log: Logger) {}

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Runs `fn` every `ms` until the worker stops; a failure is logged and the next run tries again. */
  every(ms: number, what: string, fn: () => Promise<void>): void {
    // A longer period would make Node run the interval every millisecond.
    const t = setInterval(
      () => {
        fn().catch((err) => this.log.warn({ err: (err as Error).message }, `${what} failed; will retry`));
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    t.unref?.();
    this.intervals.push(t);
  }

  /** Clears every periodic task. */
  clearIntervals(): void {
    for (const t of this.intervals.splice(0)) clearInterval(t);
  }

  /**
   * Runs a write through connection loss, with backoff, until it succeeds or the worker has
   * stopped. Any other error is logged and the write given up (undefined).
   */
  async persist<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isConnectionError(err) || this.phase === 'stopped') {
          this.log.error({ err: (err as Error).message }, `${what} failed`);
          return undefined;
        }
        const delay = Math.min(5000, 50 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random() / 2);
        this.log.warn(
          { err: (err as Error).message, retryInMs: Math.round(delay) },
          `${what}: database unreachable; retrying`,
        );
        await sleep(delay);
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
