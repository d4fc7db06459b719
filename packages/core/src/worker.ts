import { hostname } from 'node:os';
import { BatonError, NonRetryableError } from './errors.js';
import { toMs, type Duration } from './duration.js';
import { MAX_TIMER_MS } from './timers.js';
import { checkInt } from './check.js';
import { toJsonText } from './json.js';
import { newId } from './ids.js';
import { retryDelayMs, checkName, type JobDefinition } from './job.js';
import { errorToJson } from './execution.js';
import { Attempt } from './attempt.js';
import { AttemptContext } from './job-context.js';
import { isWorkflowDefinition, type WorkflowDefinition } from './workflow/definition.js';
import { WorkflowRun } from './workflow/runner.js';
import { completeRun, suspend } from './workflow/history.js';
import { HistoryWriter } from './workflow/history-writer.js';
import { claimLimited, claimUnlimited, ownedButUnknown, type ClaimedRow } from './sql/claim.js';
import {
  completeMany,
  finishAttempt,
  releaseUnstarted,
  type AttemptOutcome,
  type Completion,
} from './sql/finish.js';
import {
  heartbeat,
  recoverExpired,
  recoverOrphans,
  registerWorker,
  saveProgress,
  unregisterWorker,
} from './sql/workers.js';
import { WAKEUP_CHANNEL, parseWakeup } from './wakeup.js';

/** How often a worker looks for running executions whose owner is not registered at all. */
const ORPHAN_SWEEP_MS = 5 * 60_000;
/** Claims a worker keeps on their way at once. */
const MAX_CLAIMS_IN_FLIGHT = 2;
/** Most completions written in one statement. */
const COMPLETION_BATCH = 1000;
import { fireDueSchedules, upsertSchedules, type ScheduleDefinition } from './schedule.js';
import { pruneFinished } from './client.js';
import { isConnectionError } from './driver/postgres.js';
import type { Logger } from './logger.js';
import type { LocalRunner, Store } from './store.js';

export interface WorkerOptions {
  /** The jobs this worker runs. It claims only these names (and those of `workflows`). */
  jobs?: readonly JobDefinition[];
  /** The workflows this worker runs. */
  workflows?: readonly WorkflowDefinition[];
  /** Cron schedules this worker helps fire. */
  schedules?: readonly ScheduleDefinition[];
  /** Queues to serve. Default: every queue named by `jobs`. */
  queues?: readonly string[];
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /**
   * Jobs claimed ahead and held locally beyond those running, so a fast handler never waits for
   * a round trip. Claims are batched up to this size. Default: `concurrency`.
   */
  prefetch?: number;
  /** How long completions wait to be written together; 0 writes them on the next tick. Default 0. */
  completionBatchDelay?: Duration;
  /** Poll interval when NOTIFY is silent. Default 1s. */
  pollInterval?: Duration;
  /** A worker that has not heartbeated for this long is dead and its jobs are claimed again. Default 30s. */
  lease?: Duration;
  /** How long stop() waits for running handlers before aborting them. Default 30s. */
  shutdownDeadline?: Duration;
  /** Finished executions are pruned after these ages (any one worker prunes). Default 7d and 30d. */
  retention?: { completed?: Duration; failed?: Duration };
  /** Worker id; default a new random id. */
  id?: string;
  logger?: Logger;
}

interface Running {
  row: ClaimedRow;
  attempt: Attempt;
}

/**
 * Runs jobs. Many workers, in one process or on many machines, share one database and
 * coordinate only through it.
 */
export class Worker implements LocalRunner {
  readonly id: string;
  private readonly log: Logger;
  private readonly defs = new Map<string, JobDefinition>();
  private readonly workflows = new Map<string, WorkflowDefinition>();
  private readonly names: string[];
  private readonly queues: string[];
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly completionDelayMs: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly shutdownMs: number;
  private readonly retention: { completedMs: number; failedMs: number };
  private readonly schedules: readonly ScheduleDefinition[];

  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly buffer: ClaimedRow[] = [];
  private readonly running = new Map<string, Running>();
  private limitedQueues: string[] = [];
  /** Set when keyed work may be claimable: a keyed enqueue, a poll, or a keyed job finishing. */
  private keyedWork = true;
  private unlimitedQueues: string[] = [];
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
  private claimErrors = 0;
  /**
   * A claim failed with a connection error: the server may have committed it before the reply
   * was lost, leaving executions leased to this worker that it does not know about. Before the
   * next claim the worker looks for them and runs them.
   */
  private claimMayHaveCommitted = false;
  /** Completions being written now (out of `pending`, not yet recorded). */
  private readonly flushing = new Set<readonly Completion[]>();
  private pending: Completion[] = [];
  private readonly flushes = new Set<Promise<void>>();
  /** Cancels the scheduled flush, if one is scheduled. */
  private flushTimer: (() => void) | undefined;
  private readonly progress = new Map<string, string>();
  /** Keeps a job's reported progress (JSON text) for the next heartbeat to write. */
  private readonly saveProgressLater = (id: string, progress: string): void =>
    void this.progress.set(id, progress);
  private timers: NodeJS.Timeout[] = [];
  private unlisten: (() => Promise<void>)[] = [];
  private lastPrune = 0;
  private lastOrphanSweep = Date.now();
  private idleWaiters: (() => void)[] = [];
  /** Writes the history entries of the workflows this worker runs, batched. */
  private readonly history: HistoryWriter;
  /** Withdraws this worker from its store's local runners. */
  private detach: (() => void) | undefined;
  /** Whether NOTIFY reached this worker in the start-up self-check. */
  listenWorks = false;

  constructor(
    readonly store: Store,
    options: WorkerOptions,
  ) {
    const jobs = options.jobs ?? [];
    const workflows = options.workflows ?? [];
    if (!Array.isArray(jobs) || !Array.isArray(workflows) || jobs.length + workflows.length === 0) {
      throw new BatonError(
        'E_INVALID_OPTION',
        'a worker needs at least one definition in `jobs` or `workflows`',
      );
    }
    for (const d of [...jobs, ...workflows]) {
      if (this.defs.has(d.name) || this.workflows.has(d.name)) {
        throw new BatonError('E_DUPLICATE_DEFINITION', `'${d.name}' is given to the worker twice`);
      }
      if (isWorkflowDefinition(d)) this.workflows.set(d.name, d);
      else this.defs.set(d.name, d);
    }
    this.names = [...this.defs.keys(), ...this.workflows.keys()];
    this.queues = [
      ...new Set(options.queues ?? [...this.defs.values(), ...this.workflows.values()].map((d) => d.queue)),
    ].map((q) => checkName(q, 'queue'));
    this.concurrency = checkInt(options.concurrency, 'worker concurrency', 1, 100_000, 10);
    this.prefetch = checkInt(options.prefetch, 'worker prefetch', 0, 100_000, this.concurrency);
    this.completionDelayMs = toMs(options.completionBatchDelay ?? 0, 'completionBatchDelay');
    this.pollMs = Math.max(10, toMs(options.pollInterval ?? 1000, 'pollInterval'));
    this.leaseMs = Math.max(100, toMs(options.lease ?? 30_000, 'lease'));
    this.shutdownMs = toMs(options.shutdownDeadline ?? 30_000, 'shutdownDeadline');
    this.retention = {
      completedMs: toMs(options.retention?.completed ?? '7d', 'retention.completed'),
      failedMs: toMs(options.retention?.failed ?? '30d', 'retention.failed'),
    };
    this.schedules = options.schedules ?? [];
    for (const s of this.schedules) {
      if (!this.defs.has(s.job.name)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `schedule '${s.name}' runs job '${s.job.name}', which this worker does not have in \`jobs\``,
        );
      }
    }
    this.id = options.id ?? `${hostname()}-${process.pid}-${newId().slice(-12)}`;
    this.log = (options.logger ?? store.logger).child({ worker: this.id });
    this.history = new HistoryWriter(store.driver, this.id);
  }

  /** Registers the worker, checks LISTEN, and starts claiming. Resolves once running. */
  async start(): Promise<void> {
    if (this.state !== 'new')
      throw new BatonError('E_INVALID_STATE', `worker ${this.id} was already started`);
    this.state = 'running';
    const db = this.store.driver;
    await this.store.checkSchema();
    await this.register();
    const all = [...this.defs.values(), ...this.workflows.values()];
    await db.query(
      `INSERT INTO baton.definitions (kind, name, queue) SELECT k, n, q FROM unnest($1::text[], $2::text[], $3::text[]) AS x(k, n, q)
       ON CONFLICT (kind, name) DO UPDATE SET queue = excluded.queue, updated_at = now()`,
      [
        all.map((d) => (isWorkflowDefinition(d) ? 'workflow' : 'job')),
        all.map((d) => d.name),
        all.map((d) => d.queue),
      ],
    );
    await upsertSchedules(db, this.schedules);
    await this.refreshQueueLimits();

    this.unlisten.push(
      await db.listen(WAKEUP_CHANNEL, (payload) => this.onWakeup(payload)),
      await db.listen('baton_cancel', (id) => this.requestCancel(id)),
    );
    this.listenWorks = await this.selfCheckListen();
    if (!this.listenWorks) {
      this.log.warn(
        { pollMs: this.pollMs },
        'LISTEN/NOTIFY did not deliver a test notification (a transaction pooler such as PgBouncer drops LISTEN); falling back to polling',
      );
    }

    const every = (ms: number, fn: () => Promise<void>, what: string) => {
      // A longer period would make Node run the interval every millisecond.
      const t = setInterval(
        () => {
          fn().catch((err) => this.log.warn({ err: (err as Error).message }, `${what} failed; will retry`));
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      t.unref?.();
      this.timers.push(t);
    };
    every(Math.max(50, Math.floor(this.leaseMs / 3)), () => this.beat(), 'heartbeat');
    every(Math.min(5000, Math.max(100, Math.floor(this.leaseMs / 2))), () => this.maintain(), 'maintenance');
    every(
      this.pollMs,
      async () => {
        this.keyedWork = true;
        this.wake();
      },
      'poll',
    );
    this.detach = this.store.attachRunner(this);
    this.log.info({ queues: this.queues, jobs: this.names, concurrency: this.concurrency }, 'worker started');
    void this.maintain().catch(() => undefined);
    this.wake();
  }

  private async selfCheckListen(): Promise<boolean> {
    const token = newId();
    let heard!: () => void;
    const arrived = new Promise<boolean>((resolve) => (heard = () => resolve(true)));
    const off = await this.store.driver.listen('baton_selfcheck', (p) => {
      if (p === token) heard();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.store.driver.notify('baton_selfcheck', token);
      return await Promise.race([
        arrived,
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 2000))),
      ]);
    } finally {
      clearTimeout(timer);
      await off();
    }
  }

  private async refreshQueueLimits(): Promise<void> {
    const rows = await this.store.driver.query<{ name: string }>(
      `SELECT name FROM baton.queues WHERE name = ANY($1::text[]) AND (concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL)`,
      [this.queues],
    );
    const limited = new Set(rows.map((r) => r.name));
    this.limitedQueues = this.queues.filter((q) => limited.has(q));
    this.unlimitedQueues = this.queues.filter((q) => !limited.has(q));
  }

  private onWakeup(payload: string): void {
    const w = parseWakeup(payload);
    if (!w || !this.queues.includes(w.queue)) return;
    if (w.keyed) this.keyedWork = true;
    const wait = w.dueAtMs === undefined ? 0 : w.dueAtMs - Date.now();
    if (wait > 1) this.scheduleWake(wait);
    else this.wake();
  }

  /** Asks for work now. */
  private wake(): void {
    if (this.state !== 'running') return;
    this.exhausted = false;
    this.wakeups++;
    this.pumpClaims();
  }

  /**
   * Starts claims while there is room: up to MAX_CLAIMS_IN_FLIGHT at once, each of at most half
   * the prefetch, so that a batch is always on its way while the local buffer drains.
   */
  private pumpClaims(): void {
    const batch = Math.max(1, Math.ceil((this.concurrency + this.prefetch) / 2));
    // A second claim in flight only pays off while claims come back full (a deep queue); when a
    // worker is woken for a single job, the second would find nothing.
    const maxInFlight = this.deepQueue ? MAX_CLAIMS_IN_FLIGHT : 1;
    if (this.claimMayHaveCommitted && this.state === 'running' && !this.backingOff) {
      // Only once no other claim is on its way can "leased to me but unknown" mean "lost reply".
      if (this.claimsInFlight === 0) this.adoptLostClaims();
      return;
    }
    while (
      this.state === 'running' &&
      !this.exhausted &&
      !this.backingOff &&
      this.claimsInFlight < maxInFlight
    ) {
      const room = this.concurrency + this.prefetch - this.running.size - this.buffer.length - this.reserved;
      // While work waits locally, claim only whole batches: every claim pays a fixed cost (a plan,
      // a commit, the walk past the index entries earlier claims left behind), and half-size
      // claims paid it twice as often for the same jobs (paired bench runs: 6% more jobs/s).
      // With nothing waiting locally, any room is worth a claim.
      if (room < 1 || (room < batch && this.buffer.length > 0)) return;
      const want = Math.min(room, batch);
      this.claimsInFlight++;
      this.reserved += want;
      const wakeupsAtStart = this.wakeups;
      void this.claim(want)
        .then(
          (got) => {
            this.claimErrors = 0;
            this.deepQueue = got === want;
            // A short claim means the queue ran dry, unless work was announced while it was in flight.
            if (got < want && this.wakeups === wakeupsAtStart) this.exhausted = true;
          },
          (err: unknown) => this.claimFailed(err),
        )
        .finally(() => {
          this.claimsInFlight--;
          this.reserved -= want;
          this.pumpClaims();
        });
    }
  }

  /** Finds executions this worker's lost claim replies leased to it, and runs them. */
  private adoptLostClaims(): void {
    this.claimsInFlight++;
    const known = [
      ...this.running.keys(),
      ...this.buffer.map((r) => r.id),
      ...this.pending.map((p) => p.id),
      ...[...this.flushing].flatMap((batch) => batch.map((c) => c.id)),
    ];
    void ownedButUnknown(this.store.driver, this.id, known)
      .then(
        (rows) => {
          this.claimMayHaveCommitted = false;
          if (rows.length === 0) return;
          this.log.warn(
            { executions: rows.length },
            'found executions claimed by a claim whose reply was lost; running them',
          );
          this.buffer.push(...rows);
          this.dispatch();
        },
        (err: unknown) => this.claimFailed(err),
      )
      .finally(() => {
        this.claimsInFlight--;
        this.pumpClaims();
      });
  }

  private claimFailed(err: unknown): void {
    if (isConnectionError(err)) this.claimMayHaveCommitted = true;
    this.claimErrors++;
    const delay = Math.min(10_000, 100 * 2 ** Math.min(this.claimErrors, 7)) * (0.5 + Math.random() / 2);
    this.log.warn(
      { err: (err as Error).message, retryInMs: Math.round(delay) },
      isConnectionError(err) ? 'database unreachable while claiming; retrying' : 'claim failed; retrying',
    );
    this.backingOff = true;
    setTimeout(() => {
      this.backingOff = false;
      this.wake();
    }, delay).unref?.();
  }

  private async claim(want: number): Promise<number> {
    const db = this.store.driver;
    let rows: ClaimedRow[] = [];
    if (this.unlimitedQueues.length > 0) {
      rows = await claimUnlimited(db, this.id, this.unlimitedQueues, this.names, want);
    }
    // The limited path costs a transaction: run it only when it can find something.
    if (rows.length < want && (this.limitedQueues.length > 0 || this.keyedWork)) {
      const asked = want - rows.length;
      const limited = await claimLimited(
        db,
        this.id,
        this.limitedQueues,
        this.unlimitedQueues,
        this.names,
        asked,
      );
      if (limited.rows.length < asked && this.limitedQueues.length === 0) this.keyedWork = false;
      rows = rows.concat(limited.rows);
      if (limited.retryInMs !== undefined) this.scheduleWake(limited.retryInMs);
    }
    if (rows.length === 0) return 0;
    rows.sort((a, b) => b.priority - a.priority);
    if (this.state !== 'running') {
      await releaseUnstarted(
        db,
        this.id,
        rows.map((r) => r.id),
      );
      return rows.length;
    }
    this.buffer.push(...rows);
    this.dispatch();
    return rows.length;
  }

  /** Wakes the claim loop in `ms`, unless an earlier wake-up is already set. */
  private scheduleWake(ms: number): void {
    const at = Date.now() + ms;
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    // A wake-up further out than a timer can wait comes early; the claim then finds nothing due yet.
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wake();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    this.wakeTimer.unref?.();
  }

  private dispatch(): void {
    while (this.running.size < this.concurrency && this.buffer.length > 0 && this.state !== 'stopped') {
      const row = this.buffer.shift()!;
      this.runOne(row).catch((err: unknown) => this.runFailed(row, err));
    }
    if (this.state === 'running' && !this.exhausted) this.pumpClaims();
  }

  /**
   * The safety net under runOne: an error that escaped it (a bug, or a database error on a path
   * that does not expect one) is logged and the execution given back, rather than crashing the
   * process or leaving the execution leased to a worker that forgot it.
   */
  private runFailed(row: ClaimedRow, err: unknown): void {
    this.log.error(
      { execution: row.id, err: (err as Error)?.message },
      'unexpected error running an execution; giving it back',
    );
    void this.withRetry(`release ${row.id}`, () =>
      finishAttempt(
        this.store.driver,
        this.id,
        row.id,
        row.attempts,
        { kind: 'released' },
        null,
        row.holds_slot ? row.queue : null,
      ),
    );
  }

  /** @internal */
  hasRoomFor(workflow: string, queue: string): boolean {
    return (
      this.state === 'running' &&
      this.workflows.has(workflow) &&
      this.unlimitedQueues.includes(queue) &&
      this.running.size + this.buffer.length < this.concurrency
    );
  }

  /** @internal */
  runStartedHere(row: ClaimedRow): void {
    if (this.state !== 'running') {
      // Stopping began while the row was being inserted: give it to the queue.
      void this.withRetry(`release ${row.id}`, () => releaseUnstarted(this.store.driver, this.id, [row.id]));
      return;
    }
    this.buffer.unshift(row);
    this.dispatch();
  }

  private requestCancel(id: string): void {
    // A job still in the local buffer is not running yet; its claim is given back or run, and a
    // running cancel is seen at its next heartbeat.
    this.running
      .get(id)
      ?.attempt.abort('cancelled', new BatonError('E_CANCELLED', `execution ${id} was cancelled`));
  }

  private async runOne(row: ClaimedRow): Promise<void> {
    const workflow = this.workflows.get(row.name);
    if (workflow) return this.runWorkflow(row, workflow);
    const def = this.defs.get(row.name)!;
    const attempt = new Attempt();
    const r: Running = { row, attempt };
    this.running.set(row.id, r);
    const ctx = new AttemptContext(row, attempt, def, this.log, this.saveProgressLater);
    try {
      ctx.start();
      const result = await attempt.run(() => def.handler(this.parseInput(def, row), ctx));
      // An abort ends the attempt even if the handler ignores its signal and returns later.
      if (!result.ok) throw result.error;
      let text: string;
      try {
        text = toJsonText(result.output === undefined ? null : result.output, `result of job '${row.name}'`);
      } catch (err) {
        throw new NonRetryableError((err as Error).message, { cause: err });
      }
      this.pending.push({
        id: row.id,
        attempt: row.attempts,
        output: text,
        hasParent: row.has_parent,
        freesSlotOf: row.holds_slot ? row.queue : null,
      });
      this.scheduleFlush();
    } catch (err) {
      await this.recordFailure(r, def, err);
    } finally {
      ctx.end();
      this.running.delete(row.id);
      this.progress.delete(row.id);
      if (row.holds_slot) this.keyedWork = true;
      this.dispatch();
      if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** One run of a workflow: replay its history, go as far as it can, then complete, fail or suspend. */
  private async runWorkflow(row: ClaimedRow, def: WorkflowDefinition): Promise<void> {
    const attempt = new Attempt();
    const r: Running = { row, attempt };
    this.running.set(row.id, r);
    const lease = { executionId: row.id, workerId: this.id, attempt: row.attempts };
    const freesSlotOf = row.holds_slot ? row.queue : null;
    const end = (o: AttemptOutcome, error?: unknown) =>
      this.withRetry(`record ${o.kind} of ${row.id}`, async () => {
        const ok = await finishAttempt(
          this.store.driver,
          this.id,
          row.id,
          row.attempts,
          o,
          error === undefined ? null : errorToJson(error, row.attempts),
          freesSlotOf,
        );
        if (ok) this.store.recorded([row.id]);
        return ok;
      });
    try {
      const log = this.log.child({ workflow: row.name, execution: row.id });
      let input: unknown;
      try {
        input = def.schema ? def.schema.parse(row.input) : row.input;
      } catch (err) {
        await end(
          { kind: 'failed' },
          new NonRetryableError(
            `stored input of workflow '${row.name}' does not match its schema: ${(err as Error).message}`,
          ),
        );
        return;
      }
      const outcome = await new WorkflowRun(
        this.store.driver,
        this.history,
        lease,
        def,
        attempt.signal,
        log,
      ).run(input, row.startedHere);
      // Declared dead meanwhile: the workflow was handed to another worker, nothing of this run counts.
      if (attempt.abortedBy === 'lost') return;
      switch (outcome.kind) {
        case 'completed': {
          let text: string;
          try {
            text = toJsonText(
              outcome.output === undefined ? null : outcome.output,
              `result of workflow '${row.name}'`,
            );
          } catch (err) {
            await end({ kind: 'failed' }, err);
            break;
          }
          if (outcome.unrecorded.length > 0) {
            // The last step's result and the completion, in one statement.
            const done = await this.withRetry(`complete ${row.id}`, () =>
              completeRun(this.store.driver, lease, outcome.unrecorded, text, {
                hasParent: row.has_parent,
                freesSlotOf,
              }),
            );
            // Not written: the lease is gone (the release below is refused too) or another run
            // recorded one of those steps first; either way the workflow is replayed.
            if (done === false) await end({ kind: 'released' });
            else this.store.recorded([row.id]);
            break;
          }
          this.pending.push({
            id: row.id,
            attempt: row.attempts,
            output: text,
            hasParent: row.has_parent,
            freesSlotOf,
          });
          this.scheduleFlush();
          break;
        }
        case 'suspended': {
          const ok = await this.withRetry(`suspend ${row.id}`, () =>
            suspend(this.store.driver, lease, outcome.knownSignals, outcome.wakeAt, freesSlotOf),
          );
          if (ok && outcome.wakeAt) this.scheduleWake(Math.max(1, outcome.wakeAt.getTime() - Date.now()));
          break;
        }
        case 'lost':
          this.log.warn({ execution: row.id }, 'workflow run stopped: another worker owns this workflow now');
          break;
        case 'interrupted':
          this.log.warn(
            { execution: row.id, err: (outcome.error as Error)?.message },
            'workflow run interrupted by a database error; it will be replayed',
          );
          await end({ kind: 'released' });
          break;
        case 'cancelled':
        case 'failed':
          // Not a cancellation: this worker is stopping. Give the workflow back to be replayed elsewhere.
          if (attempt.abortedBy === 'shutdown') await end({ kind: 'released' });
          // A workflow's own failure is final: replaying the same code over the same history would fail again.
          else await end({ kind: outcome.kind }, outcome.error);
          break;
      }
    } finally {
      this.running.delete(row.id);
      this.dispatch();
      if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private parseInput(def: JobDefinition, row: ClaimedRow): unknown {
    if (!def.schema) return row.input;
    try {
      return def.schema.parse(row.input);
    } catch (err) {
      throw new NonRetryableError(
        `stored input of job '${row.name}' does not match its schema: ${(err as Error).message}`,
      );
    }
  }

  private async recordFailure(r: Running, def: JobDefinition, err: unknown): Promise<void> {
    const { row } = r;
    // Another worker owns the job now; anything written here would be refused by the fence.
    if (r.attempt.abortedBy === 'lost') return;
    let outcome: AttemptOutcome;
    if (r.attempt.abortedBy === 'shutdown') outcome = { kind: 'released' };
    else if (r.attempt.abortedBy === 'cancelled') outcome = { kind: 'cancelled' };
    else if (err instanceof NonRetryableError || row.attempts >= row.max_attempts)
      outcome = { kind: 'failed' };
    else outcome = { kind: 'retry', delayMs: retryDelayMs(def, row.attempts) };
    const errorJson = outcome.kind === 'released' ? null : errorToJson(err, row.attempts);
    if (outcome.kind === 'failed' || outcome.kind === 'retry') {
      this.log.warn(
        {
          job: row.name,
          execution: row.id,
          attempt: row.attempts,
          err: (err as Error)?.message,
          outcome: outcome.kind,
        },
        'job attempt failed',
      );
    }
    await this.withRetry(`record ${outcome.kind} of ${row.id}`, async () => {
      const ok = await finishAttempt(
        this.store.driver,
        this.id,
        row.id,
        row.attempts,
        outcome,
        errorJson,
        row.holds_slot ? row.queue : null,
      );
      if (!ok)
        this.log.warn(
          { execution: row.id },
          'attempt outcome not recorded: this worker no longer holds the job (its lease expired)',
        );
      else this.store.recorded([row.id]);
    });
    // Nobody is notified of a retry: this worker wakes itself when it is due (others find it by polling).
    if (outcome.kind === 'retry') this.scheduleWake(Math.max(1, outcome.delayMs));
  }

  /** Retries a write through connection loss, with backoff, until it succeeds or the worker is past stopping. */
  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isConnectionError(err) || this.state === 'stopped') {
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

  /**
   * Writes completions in batches. Two batches may be in flight at once, on two connections, so
   * the database keeps both cores busy; a batch holds at most COMPLETION_BATCH rows so that a slow
   * write does not snowball into an ever larger one.
   */
  private scheduleFlush(): void {
    if (this.flushTimer || this.flushes.size >= 2 || this.pending.length === 0) return;
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
      await this.withRetry(`record ${batch.length} completions`, async () => {
        const recorded = await completeMany(this.store.driver, this.id, batch);
        this.store.recorded(recorded);
        if (recorded.size < batch.length) {
          const lost = batch.filter((b) => !recorded.has(b.id)).map((b) => b.id);
          this.log.warn(
            { executions: lost },
            'completions not recorded: this worker no longer holds these jobs (lease expired); another attempt owns them',
          );
        }
      });
    } finally {
      this.flushing.delete(batch);
    }
  }

  private register(): Promise<void> {
    return registerWorker(this.store.driver, {
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      queues: this.queues,
      names: this.names,
      leaseMs: this.leaseMs,
    });
  }

  private async beat(): Promise<void> {
    const { alive, cancelled } = await heartbeat(this.store.driver, this.id, [...this.running.keys()]);
    if (!alive && this.state === 'running') {
      this.log.warn(
        { running: this.running.size, buffered: this.buffer.length },
        'this worker was declared dead by another (missed heartbeats); its executions went to other workers: stopping them and registering again',
      );
      // Recovery requeued everything leased to this worker: what runs here now would only be
      // fenced out when it tries to record, so stop it now and let go of unstarted claims.
      this.buffer.length = 0;
      for (const r of this.running.values()) {
        r.attempt.abort(
          'lost',
          new BatonError(
            'E_LEASE_EXPIRED',
            `worker ${this.id} lost its lease on ${r.row.id} (missed heartbeats)`,
          ),
        );
      }
      await this.register();
    }
    for (const id of cancelled) this.requestCancel(id);
    if (this.progress.size > 0) {
      const batch = new Map(this.progress);
      this.progress.clear();
      await saveProgress(this.store.driver, this.id, batch);
    }
  }

  private async maintain(): Promise<void> {
    if (this.state !== 'running') return;
    const recovered = await recoverExpired(this.store.driver);
    if (Date.now() - this.lastOrphanSweep > ORPHAN_SWEEP_MS) {
      this.lastOrphanSweep = Date.now();
      recovered.push(
        ...(await recoverOrphans(this.store.driver, Math.max(ORPHAN_SWEEP_MS, 3 * this.leaseMs))),
      );
    }
    if (recovered.length > 0) {
      this.log.warn(
        { executions: recovered.length },
        'recovered executions from workers whose lease expired',
      );
      this.wake();
    }
    const fired = await fireDueSchedules(this.store.driver, this.schedules);
    if (fired > 0) this.wake();
    await this.refreshQueueLimits();
    if (Date.now() - this.lastPrune > 60_000) {
      this.lastPrune = Date.now();
      const n = await pruneFinished(this.store, this.retention);
      if (n > 0) this.log.info({ pruned: n }, 'pruned finished executions past retention');
    }
  }

  /** Resolves when nothing is running or buffered (tests and the demo use it). */
  async idle(): Promise<void> {
    while (
      this.running.size > 0 ||
      this.buffer.length > 0 ||
      this.pending.length > 0 ||
      this.flushes.size > 0
    ) {
      if (this.running.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      else await sleep(5);
      await Promise.all(this.flushes);
    }
  }

  /**
   * Graceful shutdown: stop claiming, give back jobs claimed but not started, let running
   * handlers finish until the deadline, then abort them and give them back without counting
   * the attempt. Completions are written before the worker unregisters.
   */
  async stop(options: { deadline?: Duration } = {}): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.detach?.();
    const deadlineMs =
      options.deadline === undefined ? this.shutdownMs : toMs(options.deadline, 'stop deadline');
    for (const t of this.timers) clearInterval(t);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const db = this.store.driver;
    await Promise.all(this.unlisten.map((off) => off().catch(() => undefined)));
    while (this.claimsInFlight > 0) await sleep(5);
    const unstarted = this.buffer.splice(0).map((r) => r.id);
    await this.withRetry(
      'release unstarted jobs',
      async () => void (await releaseUnstarted(db, this.id, unstarted)),
    );
    const deadline = Date.now() + deadlineMs;
    while (this.running.size > 0 && Date.now() < deadline) await sleep(10);
    for (const r of this.running.values()) {
      r.attempt.abort('shutdown', new BatonError('E_WORKER_STOPPED', `worker ${this.id} is shutting down`));
    }
    while (this.running.size > 0) await sleep(5);
    this.flushTimer?.();
    this.flushTimer = undefined;
    await Promise.all(this.flushes);
    while (this.pending.length > 0) await this.flush();
    await this.beat().catch(() => undefined);
    await unregisterWorker(db, this.id).catch((err) =>
      this.log.warn({ err: (err as Error).message }, 'could not unregister worker'),
    );
    this.state = 'stopped';
    this.log.info('worker stopped');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
