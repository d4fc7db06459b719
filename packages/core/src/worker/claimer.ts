// Claiming: the claim loop, the local buffer it fills, the wake-ups that drive it (NOTIFY, timers,
// polling) and the queue limits that decide which claim path to take.
import { isConnectionError } from '../driver/postgres.js';
import { claimLimited, claimUnlimited, ownedButUnknown, type ClaimedRow } from '../sql/claim.js';
import { releaseUnstarted } from '../sql/finish.js';
import { MAX_TIMER_MS } from '../timers.js';
import { parseWakeup } from '../wakeup.js';
import type { Driver } from '../driver/types.js';
import type { Logger } from '../logger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Served } from './served.js';

/** Claims a worker keeps on their way at once. */
const MAX_CLAIMS_IN_FLIGHT = 2;
/** After a lost reply, when the worker looks a second time for what the statement may have claimed. */
const LATE_COMMIT_MS = 5000;

/** What the claimer needs from the rest of its worker. */
export interface ClaimerHost {
  /** Attempts running now (they take room a claim could fill). */
  running(): number;
  /** True while `id` runs here. */
  isRunning(id: string): boolean;
  /** Ids this worker holds outside the buffer: running, or their outcome not yet written. */
  heldIds(): string[];
  /** Called when rows arrive in the buffer. */
  dispatch(): void;
}

export class Claimer {
  private readonly buffer: ClaimedRow[] = [];
  private limitedQueues: string[] = [];
  private unlimitedQueues: string[] = [];
  /** Set when keyed work may be claimable: a keyed enqueue, a poll, or a keyed job finishing. */
  private keyedWork = true;
  private claimsInFlight = 0;
  /** Rows asked for by claims in flight, so that two claims never ask for the same room. */
  private reserved = 0;
  private backingOff = false;
  /** Counts wake-ups, so that a claim that started before one cannot declare the queue empty. */
  private wakeups = 0;
  /** The last claim came back full: more work is likely waiting. */
  private deepQueue = false;
  private exhausted = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = 0;
  /** The claim that the wake-ups of the current claimBatchDelay share (apart from wakeTimer's due times). */
  private batchTimer: NodeJS.Timeout | undefined;
  private claimErrors = 0;
  /**
   * A claim (or a start beside this worker) failed with a connection error: the server may have
   * committed it before the reply was lost, leaving executions leased to this worker that it does
   * not know about. Before the next claim the worker looks for them and runs them.
   */
  private mayHaveLostClaims = false;
  /** Counts suspicions, so that one raised while a look is on its way is not cleared by it. */
  private suspicions = 0;

  constructor(
    private readonly db: Driver,
    private readonly workerId: string,
    private readonly served: Pick<Served, 'queues' | 'names'>,
    private readonly concurrency: number,
    private readonly prefetch: number,
    /** How long a wake-up waits before its claim (claimBatchDelay). */
    private readonly claimDelayMs: number,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly host: ClaimerHost,
  ) {}

  /** Rows claimed and not started yet. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** The next row to run, highest priority first. */
  take(): ClaimedRow | undefined {
    return this.buffer.shift();
  }

  /** Empties the buffer and returns what it held (shutdown, or this worker declared dead). */
  takeAll(): ClaimedRow[] {
    return this.buffer.splice(0);
  }

  /** Puts a row this worker was just handed (a workflow started beside it) first in line. */
  addFirst(row: ClaimedRow): void {
    if (this.holds(row.id)) return;
    this.buffer.unshift(row);
    this.host.dispatch();
  }

  /** True when this worker serves `queue` and the queue has no global limit. */
  servesUnlimited(queue: string): boolean {
    return this.unlimitedQueues.includes(queue);
  }

  /** Reads which of this worker's queues have global limits (they take the slower claim path). */
  async refreshQueueLimits(): Promise<void> {
    const rows = await this.db.query<{ name: string }>(
      `SELECT name FROM baton.queues WHERE name = ANY($1::text[]) AND (concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL)`,
      [this.served.queues],
    );
    const limited = new Set(rows.map((r) => r.name));
    this.limitedQueues = this.served.queues.filter((q) => limited.has(q));
    this.unlimitedQueues = this.served.queues.filter((q) => !limited.has(q));
  }

  /** A NOTIFY on the wake-up channel. */
  onWakeup(payload: string): void {
    const w = parseWakeup(payload);
    if (!w || !this.served.queues.includes(w.queue)) return;
    if (w.keyed) this.keyedWork = true;
    const wait = w.dueAtMs === undefined ? 0 : w.dueAtMs - Date.now();
    if (wait > 1) this.wakeIn(wait);
    else if (this.claimDelayMs > 0) this.wakeAfterBatchDelay();
    else this.wake();
  }

  /** The poll: keyed work may have become claimable without a wake-up reaching this worker. */
  poll(): void {
    this.keyedWork = true;
    this.wake();
  }

  /** A job holding a slot of a limit finished: keyed work may be claimable now. */
  slotFreed(): void {
    this.keyedWork = true;
  }

  /**
   * A write that may have leased executions to this worker lost its reply. The worker looks for
   * them before its next claim, and once more a few seconds later: on a connection that broke,
   * the server may still commit the statement after the client saw the error.
   */
  lostReply(): void {
    this.suspectLostClaims();
    setTimeout(() => this.suspectLostClaims(), LATE_COMMIT_MS).unref?.();
  }

  /** Looks for executions leased to this worker that it does not know (maintenance, now and then). */
  suspectLostClaims(): void {
    this.mayHaveLostClaims = true;
    this.suspicions++;
    this.wake();
  }

  /** Asks for work now. */
  wake(): void {
    if (!this.life.running) return;
    this.exhausted = false;
    this.wakeups++;
    this.pump();
  }

  /** Wakes the claim loop in `ms`, unless an earlier wake-up is already set. */
  wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.armWakeTimer(ms);
  }

  /**
   * Node's timers count whole milliseconds on a monotonic clock, so one can fire up to a
   * millisecond before the wall-clock moment it was set for. A claim then would find the work not
   * yet due, and nothing but the poll would claim it. The timer is set again until the clock is
   * past that moment, as it is for a wake-up further out than a timer can wait.
   */
  private armWakeTimer(ms: number): void {
    this.wakeTimer = setTimeout(
      () => {
        const left = this.wakeAt - Date.now();
        if (left >= 0) return this.armWakeTimer(left + 1);
        this.wakeTimer = undefined;
        this.wake();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    this.wakeTimer.unref?.();
  }

  /** Wakes the claim loop at the end of the claim batch delay that this wake-up starts or joins. */
  private wakeAfterBatchDelay(): void {
    if (this.batchTimer) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.wake();
    }, this.claimDelayMs);
    this.batchTimer.unref?.();
  }

  /** Called after rows left the buffer: claims more unless the queues ran dry. */
  refill(): void {
    if (this.life.running && !this.exhausted) this.pump();
  }

  /** Stops the wake-up timer and resolves once no claim is in flight. */
  async stop(): Promise<void> {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.batchTimer) clearTimeout(this.batchTimer);
    while (this.claimsInFlight > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private holds(id: string): boolean {
    return this.host.isRunning(id) || this.buffer.some((r) => r.id === id);
  }

  /**
   * Starts claims while there is room: up to MAX_CLAIMS_IN_FLIGHT at once, each of at most half
   * the prefetch, so that a batch is always on its way while the local buffer drains.
   */
  private pump(): void {
    const batch = Math.max(1, Math.ceil((this.concurrency + this.prefetch) / 2));
    // A second claim in flight only pays off while claims come back full (a deep queue); when a
    // worker is woken for a single job, the second would find nothing.
    const maxInFlight = this.deepQueue ? MAX_CLAIMS_IN_FLIGHT : 1;
    if (this.mayHaveLostClaims && this.life.running && !this.backingOff) {
      // Only once no other claim is on its way can "leased to me but unknown" mean "lost reply".
      if (this.claimsInFlight === 0) this.adoptLostClaims();
      return;
    }
    while (this.life.running && !this.exhausted && !this.backingOff && this.claimsInFlight < maxInFlight) {
      const room =
        this.concurrency + this.prefetch - this.host.running() - this.buffer.length - this.reserved;
      // While work waits locally, claim only whole batches: every claim pays a fixed cost (a plan,
      // a commit, the walk past the index entries earlier claims left behind), and half-size
      // claims paid it twice as often for the same jobs (paired bench runs: 6% more jobs/s).
      // With nothing waiting locally, any room is worth a claim.
      if (room < 1 || (room < batch && this.buffer.length > 0)) return;
      const want = Math.min(room, batch);
      this.claimsInFlight++;
      this.reserved += want;
      const wakeupsAtStart = this.wakeups;
      const aloneAtStart = this.claimsInFlight === 1;
      void this.claim(want)
        .then(
          (got) => {
            this.claimErrors = 0;
            this.deepQueue = got === want;
            // A short claim means the queue ran dry, unless work was announced while it was in
            // flight, or another claim of this worker ran beside it (it may have taken the rows).
            const alone = aloneAtStart && this.claimsInFlight === 1;
            if (got < want && alone && this.wakeups === wakeupsAtStart) this.exhausted = true;
          },
          (err: unknown) => this.claimFailed(err),
        )
        .finally(() => {
          this.claimsInFlight--;
          this.reserved -= want;
          this.pump();
        });
    }
  }

  /** Finds executions this worker's lost claim replies leased to it, and runs them. */
  private adoptLostClaims(): void {
    this.claimsInFlight++;
    const suspicionsAtStart = this.suspicions;
    const known = [...this.host.heldIds(), ...this.buffer.map((r) => r.id)];
    void ownedButUnknown(this.db, this.workerId, known)
      .then(
        (rows) => {
          if (this.suspicions === suspicionsAtStart) this.mayHaveLostClaims = false;
          // A start beside this worker may have handed one of them over meanwhile.
          const unknown = rows.filter((r) => !this.holds(r.id));
          if (unknown.length === 0) return;
          this.log.warn(
            { executions: unknown.length },
            'found executions claimed by a claim whose reply was lost; running them',
          );
          this.buffer.push(...unknown);
          this.host.dispatch();
        },
        (err: unknown) => this.claimFailed(err),
      )
      .finally(() => {
        this.claimsInFlight--;
        this.pump();
      });
  }

  private claimFailed(err: unknown): void {
    this.claimErrors++;
    const delay = Math.min(10_000, 100 * 2 ** Math.min(this.claimErrors, 7)) * (0.5 + Math.random() / 2);
    this.log.warn(
      { err: (err as Error).message, retryInMs: Math.round(delay) },
      isConnectionError(err) ? 'database unreachable while claiming; retrying' : 'claim failed; retrying',
    );
    this.backingOff = true;
    // The look for what the failed claim may have taken waits for the back-off, as claims do.
    if (isConnectionError(err)) this.lostReply();
    setTimeout(() => {
      this.backingOff = false;
      this.wake();
    }, delay).unref?.();
  }

  private async claim(want: number): Promise<number> {
    let rows: ClaimedRow[] = [];
    if (this.unlimitedQueues.length > 0) {
      rows = await claimUnlimited(this.db, this.workerId, this.unlimitedQueues, this.served.names, want);
    }
    // The limited path costs a transaction: run it only when it can find something.
    if (rows.length < want && (this.limitedQueues.length > 0 || this.keyedWork)) {
      const asked = want - rows.length;
      const limited = await claimLimited(
        this.db,
        this.workerId,
        this.limitedQueues,
        this.unlimitedQueues,
        this.served.names,
        asked,
      );
      if (limited.rows.length < asked && this.limitedQueues.length === 0) this.keyedWork = false;
      rows = rows.concat(limited.rows);
      if (limited.retryInMs !== undefined) this.wakeIn(limited.retryInMs);
    }
    if (rows.length === 0) return 0;
    rows.sort((a, b) => b.priority - a.priority);
    if (!this.life.running) {
      await releaseUnstarted(
        this.db,
        this.workerId,
        rows.map((r) => r.id),
      );
      return rows.length;
    }
    this.buffer.push(...rows);
    this.host.dispatch();
    return rows.length;
  }
}
