// Writing what attempts came to: completions batched, everything else (failures, retries,
// cancellations, executions given back) one statement each. Every write is fenced on the lease.
import {
  completeMany,
  finishAttempt,
  releaseUnstarted,
  type AttemptOutcome,
  type Completion,
} from '../sql/finish.js';
import type { ClaimedRow } from '../sql/claim.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store.js';
import type { Lifecycle } from './lifecycle.js';

/** Most completions written in one statement. */
const COMPLETION_BATCH = 1000;
/** Completion batches in flight at once, on two connections, so the database keeps both cores busy. */
const MAX_FLUSHES = 2;

export class OutcomeWriter {
  private pending: Completion[] = [];
  /** Completions being written now (out of `pending`, not yet recorded). */
  private readonly flushing = new Set<readonly Completion[]>();
  private readonly flushes = new Set<Promise<void>>();
  /** Cancels the scheduled flush, if one is scheduled. */
  private flushTimer: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly workerId: string,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    /** How long completions wait to be written together; 0 writes them on the next tick. */
    private readonly completionDelayMs: number,
  ) {}

  /** Queues a completion; it is written with the others that are ready by the next flush. */
  complete(c: Completion): void {
    this.pending.push(c);
    this.scheduleFlush();
  }

  /**
   * Records an attempt that did not complete. False if this worker no longer holds it; undefined
   * if the write failed for good (logged).
   */
  finish(row: ClaimedRow, outcome: AttemptOutcome, errorJson: string | null): Promise<boolean | undefined> {
    return this.life.persist(`record ${outcome.kind} of ${row.id}`, async () => {
      const written = await finishAttempt(
        this.store.driver,
        this.workerId,
        row.id,
        row.attempts,
        outcome,
        errorJson,
        row.holds_slot ? row.queue : null,
      );
      if (written) this.store.recorded([row.id]);
      return written;
    });
  }

  /** Gives claimed executions that never started back to the queue, without counting an attempt. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.life.persist(`release ${ids.length} unstarted`, async () => {
      await releaseUnstarted(this.store.driver, this.workerId, ids);
    });
  }

  /** Ids whose completion is queued or being written: the worker still holds them. */
  ids(): string[] {
    return [...this.pending.map((p) => p.id), ...[...this.flushing].flatMap((b) => b.map((c) => c.id))];
  }

  /** True while a completion waits to be written or is being written. */
  get busy(): boolean {
    return this.pending.length > 0 || this.flushes.size > 0;
  }

  /** Resolves once the writes in flight have ended. */
  async settled(): Promise<void> {
    await Promise.all(this.flushes);
  }

  /** Writes every queued completion now (shutdown). */
  async drain(): Promise<void> {
    this.flushTimer?.();
    this.flushTimer = undefined;
    await Promise.all(this.flushes);
    while (this.pending.length > 0) await this.flush();
  }

  /**
   * Writes completions in batches of at most COMPLETION_BATCH rows, so that a slow write does not
   * snowball into an ever larger one, with up to MAX_FLUSHES batches in flight.
   */
  private scheduleFlush(): void {
    if (this.flushTimer || this.flushes.size >= MAX_FLUSHES || this.pending.length === 0) return;
    const run = () => {
      this.flushTimer = undefined;
      const p = this.flush().finally(() => {
        this.flushes.delete(p);
        this.scheduleFlush();
      });
      this.flushes.add(p);
      this.scheduleFlush();
    };
    // setTimeout(0) waits a millisecond at least; setImmediate only lets this turn's completions join the batch.
    if (this.completionDelayMs > 0) {
      const t = setTimeout(run, this.completionDelayMs);
      this.flushTimer = () => clearTimeout(t);
    } else {
      const i = setImmediate(run);
      this.flushTimer = () => clearImmediate(i);
    }
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, COMPLETION_BATCH);
    if (batch.length === 0) return;
    this.flushing.add(batch);
    try {
      await this.life.persist(`record ${batch.length} completions`, async () => {
        const recorded = await completeMany(this.store.driver, this.workerId, batch);
        this.store.recorded(recorded);
        if (recorded.size < batch.length) {
          const missed = batch.filter((b) => !recorded.has(b.id));
          this.log.warn(
            { executions: missed.map((b) => b.id) },
            'completions not recorded: this worker no longer holds these executions (lease expired), or another run recorded their last steps first',
          );
          // A workflow whose last steps another run recorded first is given back to be replayed,
          // in case this worker still holds it (the release is fenced on the lease like the rest).
          for (const b of missed)
            if (b.entries?.length)
              await finishAttempt(
                this.store.driver,
                this.workerId,
                b.id,
                b.attempt,
                { kind: 'released' },
                null,
                b.freesSlotOf,
              );
        }
      });
    } finally {
      this.flushing.delete(batch);
    }
  }
}
