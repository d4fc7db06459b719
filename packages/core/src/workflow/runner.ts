import { activeContext, endSpan, SpanKind, startSpan, traceCarrier, withSpan } from '../telemetry/trace.js';
import { BatonError } from '../errors.js';
import type { ArtifactStore } from '../artifacts/ledger.js';
import { toMs, type Duration } from '../duration.js';
import { after } from '../timers.js';
import { toJsonText } from '../json.js';
import { errorToJson } from '../execution.js';
import type { Driver } from '../driver/types.js';
import type { Logger } from '../logger.js';
import {
  isWorkflowDefinition,
  WORKFLOW_REPLAYS,
  type ChildOptions,
  type ExecutionHandle,
  type StepContext,
  type StepOptions,
  type WorkflowContext,
  type WorkflowDefinition,
  type WorkflowLogger,
} from './definition.js';
import { checkStorable, checkText } from '../check.js';
import { checkName, isJobDefinition, type JobDefinition } from '../job.js';
import {
  childStates,
  type ChildState,
  consumeSignal,
  type ReplayState,
  readEntry,
  recordEvent,
  startChild,
  type EntryResult,
  type HistoryEntry,
  type HistoryKind,
  type Lease,
  type NewEntry,
} from './history.js';
import { seededRandom, uuidFrom } from './prng.js';
import { SettleOrder } from './settle-order.js';
import type { HistoryWriter } from './history-writer.js';

/** How one run of a workflow ended. */
export type RunOutcome =
  /** `unrecorded`: step results the code received that must be written with the completion. */
  | { kind: 'completed'; output: unknown; unrecorded: NewEntry[] }
  | { kind: 'failed'; error: unknown }
  | { kind: 'suspended'; wakeAt: Date | null; knownSignals: number }
  | { kind: 'cancelled'; error: unknown }
  /** Another worker owns the workflow now; this run stops without writing anything more. */
  | { kind: 'lost' }
  /** The database failed under the run; the workflow is given back and replayed later. */
  | { kind: 'interrupted'; error: unknown }
  /** ctx.continueAsNew: the next run of this workflow id starts with `input` (JSON text); `steps`: positions this run took. */
  | { kind: 'continued'; input: string; steps: number };

/** The error a workflow sees when an activity or child workflow failed or was cancelled. */
export class ChildFailedError extends Error {
  constructor(
    readonly kind: 'activity' | 'child',
    readonly child: string,
    readonly childId: string,
    reason: string,
  ) {
    super(`${kind === 'activity' ? 'activity' : 'child workflow'} '${child}' (${childId}) ${reason}`);
    this.name = 'ChildFailedError';
  }
}

/** The error a workflow sees when a step failed (on the first run and on every replay alike). */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    /** The step's recorded error. */
    readonly failure: unknown,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StepFailedError';
  }
}

const NEVER = new Promise<never>(() => undefined);

/**
 * Runs a workflow function once against its history. Durable operations take positions in the
 * order the code asks for them; a position already in history returns what was recorded, a new
 * one runs and is recorded. The run suspends when every operation in flight is waiting on time or
 * a signal, and fails with E_NONDETERMINISM when the code asks for something other than what the
 * history recorded at a position.
 */
export class WorkflowRun {
  private history: HistoryEntry[] = [];
  private knownSignals = 0;
  /** The states of the children the history waited for when first asked (see childState). */
  private waitedChildren: Promise<Map<string, ChildState>> | undefined;
  /** Positions of the children this run started. */
  private readonly startedHere = new Set<number>();
  private next = 0;
  /** The last position the history holds an entry at: the code replays until it gets past it. */
  private lastRecorded = -1;
  private busy = 0;
  private readonly waits: (Date | null)[] = [];
  private lastEventAt = new Date(0);
  private end!: (o: RunOutcome) => void;
  private readonly ended: Promise<RunOutcome>;
  private finished = false;
  private quiescenceCheck = false;
  private order = new SettleOrder([]);
  /**
   * Step results handed to the code but not written yet. They are written on the next turn of the
   * event loop, and in any case before the next durable operation starts, before the run suspends
   * or fails. A workflow that returns in the same turn as its last step ended (the common case)
   * writes that step with its completion, in one statement. Nothing durable can have used an
   * unwritten result, and a crash before the write is a crash right after the step's function,
   * which already means running the step again.
   */
  private unrecorded: NewEntry[] = [];
  private writing: Promise<void> | undefined;
  /** Statements of this run on their way; none starts once the run has ended (see writesSettled). */
  private inFlight = 0;
  private inFlightDone: (() => void)[] = [];
  /** Aborts the steps still running when the run ends (a step the code did not wait for). */
  private readonly ended_ = new AbortController();

  constructor(
    private readonly driver: Driver,
    /** The worker's shared writer of history entries (batched across its runs). */
    private readonly writer: HistoryWriter,
    private readonly lease: Lease,
    private readonly def: WorkflowDefinition,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
    /** Where the steps' `ctx.artifacts` write. */
    private readonly ledger: ArtifactStore,
    /** Which run of the workflow id this is (ctx.continueAsNew starts the next). */
    private readonly runNumber = 1,
  ) {
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  /** The seed of ctx.random and ctx.uuid: the workflow id, with the run number after continueAsNew. */
  private seed(): string {
    return this.runNumber === 1 ? this.lease.executionId : `${this.lease.executionId}#r${this.runNumber}`;
  }

  /** `<id>:<position>` in a workflow's first run, `<id>:r<run>:<position>` after continueAsNew. */
  private key(seq: number): string {
    return this.runNumber === 1
      ? `${this.lease.executionId}:${seq}`
      : `${this.lease.executionId}:r${this.runNumber}:${seq}`;
  }

  /**
   * Runs the workflow against its history, which the claim read (or which is empty: the execution
   * was just inserted claimed by this worker).
   */
  async run(input: unknown, state: ReplayState): Promise<RunOutcome> {
    this.history = state.history;
    this.knownSignals = state.signalCount;
    this.lastEventAt = state.createdAt;
    this.lastRecorded = this.history.length - 1;
    this.order = new SettleOrder(
      this.history.flatMap((h) => (h?.settled === null || h?.settled === undefined ? [] : [h.settled])),
    );
    const random = seededRandom(this.seed());
    const replaying = () => this.isReplaying;
    const onceLog = Object.fromEntries(
      (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).map((level) => [
        level,
        (...args: unknown[]) => {
          if (!replaying()) (this.log[level] as (...a: unknown[]) => void)(...args);
        },
      ]),
    ) as unknown as WorkflowLogger;
    const ctx: WorkflowContext = {
      id: this.lease.executionId,
      name: this.def.name,
      runNumber: this.runNumber,
      signal: this.signal,
      logger: this.log,
      log: onceLog,
      get isReplaying() {
        return replaying();
      },
      step: <T, I>(name: string, fn: (ctx: StepContext<I>) => Promise<T> | T, options?: StepOptions<I>) =>
        this.op(() => this.step(name, fn, options)),
      sleep: (d) =>
        this.op(() => this.sleepUntil(Date.now() + toMs(d, `sleep in workflow '${this.def.name}'`), 'sleep')),
      sleepUntil: (date) => {
        if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
          throw new BatonError(
            'E_INVALID_OPTION',
            `sleepUntil in workflow '${this.def.name}' needs a valid Date`,
          );
        }
        return this.op(() => this.sleepUntil(date.getTime(), 'sleep'));
      },
      waitForSignal: <T>(name: string, options?: { timeout?: Duration }) =>
        this.op(() => this.waitForSignal(name, options?.timeout) as Promise<T | null>),
      run: <I, O>(activity: JobDefinition<I, O>, input: I, options?: ChildOptions) =>
        this.op(
          () => this.child('activity', activity as JobDefinition, input, options ?? {}, true) as Promise<O>,
        ),
      runChild: <I, O>(
        workflow: WorkflowDefinition<I, O>,
        input: I,
        options?: ChildOptions & { id?: string },
      ) =>
        this.op(
          () => this.child('child', workflow as WorkflowDefinition, input, options ?? {}, true) as Promise<O>,
        ),
      startActivity: <I, O>(activity: JobDefinition<I, O>, input: I, options?: ChildOptions) =>
        this.op(
          () =>
            this.child('activity', activity as JobDefinition, input, options ?? {}, false) as Promise<
              ExecutionHandle<O>
            >,
        ),
      startChild: <I, O>(
        workflow: WorkflowDefinition<I, O>,
        input: I,
        options?: ChildOptions & { id?: string },
      ) =>
        this.op(
          () =>
            this.child('child', workflow as WorkflowDefinition, input, options ?? {}, false) as Promise<
              ExecutionHandle<O>
            >,
        ),
      continueAsNew: (next) => this.continueAsNew(next),
      patched: (changeId) => this.op(() => this.patched(changeId)),
      setEvent: (key, value) => this.op(() => this.setEvent(key, value)),
      now: () => new Date(this.lastEventAt),
      random,
      uuid: () => uuidFrom(random),
    };
    const onAbort = () => this.finish({ kind: 'cancelled', error: this.signal.reason });
    if (this.signal.aborted) onAbort();
    this.signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(() => this.def.run(ctx, input))
      .then(
        (output) => {
          // Positions a run never recorded (an operation cut off by a crash while a later one in
          // the same Promise.all was recorded) are holes in the history.
          const extra = this.history.slice(this.next).find((h) => h !== undefined);
          if (extra) {
            this.finish({
              kind: 'failed',
              error: nondeterminism(
                this.def.name,
                extra.seq,
                `${extra.kind} '${extra.name}'`,
                'the workflow to return',
              ),
            });
          } else {
            // A write started by code that did not await it finishes first.
            void Promise.resolve(this.writing).then(() =>
              this.finish({ kind: 'completed', output, unrecorded: this.unrecorded.splice(0) }),
            );
          }
        },
        (error: unknown) => void this.writeUnrecorded().then(() => this.finish({ kind: 'failed', error })),
      );
    const outcome = await this.ended;
    this.signal.removeEventListener('abort', onAbort);
    return outcome;
  }

  /** True while the code has not gone past the positions the history holds. */
  get isReplaying(): boolean {
    return this.next <= this.lastRecorded;
  }

  private finish(o: RunOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.ended_.abort(
      new BatonError('E_CANCELLED', `the run of workflow '${this.def.name}' ended before this step did`),
    );
    this.end(o);
  }

  /**
   * Resolves once no statement of this run is on its way. Nothing starts after the run has ended,
   * so this is soon; the worker waits for it before it writes the run's outcome, so that nothing
   * of this run can land after (in the next run of a continueAsNew, say, under the same lease).
   */
  writesSettled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.inFlightDone.push(resolve));
  }

  /** Runs a statement of this run, unless the run has ended; counted for writesSettled(). */
  private async tracked<T>(fn: () => Promise<T>): Promise<T> {
    if (this.finished) return NEVER;
    this.inFlight++;
    try {
      return await fn();
    } finally {
      if (--this.inFlight === 0) for (const done of this.inFlightDone.splice(0)) done();
    }
  }

  /** Wraps a durable operation: counts it as busy until it settles or starts waiting. */
  private async op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.finished) return NEVER;
    this.busy++;
    try {
      await this.writeUnrecorded();
      return await fn();
    } finally {
      this.busy--;
      this.checkQuiescent();
    }
  }

  /** Hands a recorded result over in its turn (see SettleOrder). */
  private async replayed<T>(e: HistoryEntry, value: () => T): Promise<T> {
    await this.order.recorded(e.settled);
    return value();
  }

  /** Writes the step results the code has received and the history lacks (see `unrecorded`). */
  private async writeUnrecorded(): Promise<void> {
    while (this.writing || this.unrecorded.length > 0) {
      if (!this.writing) {
        const batch = this.unrecorded.splice(0);
        this.writing = this.write(batch).finally(() => (this.writing = undefined));
      }
      await this.writing;
    }
  }

  private async write(entries: NewEntry[]): Promise<void> {
    for (const e of entries) {
      const result = await this.guard(() => this.writer.record(this.lease, e));
      if (result === 'lost') return this.lose();
      if (result === 'conflict') {
        // Another run recorded this position first, and this run's code already went on with its
        // own result: start over from the history.
        this.finish({
          kind: 'interrupted',
          error: new Error(
            `history position ${e.seq} of ${this.lease.executionId} was recorded by another run`,
          ),
        });
        return NEVER;
      }
    }
  }

  /** Takes the next position and checks that the history recorded the same operation there. */
  private position(kind: HistoryKind, name: string): { seq: number; recorded: HistoryEntry | undefined } {
    const seq = this.next++;
    const recorded = this.history[seq];
    if (recorded && (recorded.kind !== kind || recorded.name !== name)) {
      const err = nondeterminism(
        this.def.name,
        seq,
        `${recorded.kind} '${recorded.name}'`,
        `${kind} '${name}'`,
      );
      this.finish({ kind: 'failed', error: err });
      throw err;
    }
    return { seq, recorded };
  }

  private seen(e: HistoryEntry): void {
    this.seenAt(e.finishedAt ?? e.startedAt);
  }

  /** Moves now() forward to `t`: it is the latest event time, taken as the maximum so that concurrent operations replay alike. */
  private seenAt(t: Date): void {
    if (t > this.lastEventAt) this.lastEventAt = t;
  }

  /** Records an entry that is complete as written, and hands it over in its turn. */
  private async recordSettled(e: Omit<NewEntry, 'settled'>): Promise<HistoryEntry> {
    const settled = this.order.assign();
    let entry: HistoryEntry;
    try {
      entry = await this.record({ ...e, settled });
    } catch (err) {
      // An ordinal that will carry no result must not hold back the ones after it.
      this.order.skip(settled);
      throw err;
    }
    await this.order.live(settled);
    return entry;
  }

  private async record(e: NewEntry): Promise<HistoryEntry> {
    const result = await this.guard(() => this.writer.record(this.lease, e));
    if (result === 'lost') {
      this.finish({ kind: 'lost' });
      return NEVER;
    }
    const entry =
      result === 'recorded'
        ? {
            ...e,
            settled: e.settled ?? null,
            input: e.input == null ? null : JSON.parse(e.input),
            output: e.output === null ? null : JSON.parse(e.output),
            error: e.error === null ? null : JSON.parse(e.error),
          }
        : await this.guard(() => readEntry(this.driver, this.lease.executionId, e.seq));
    if (!entry) {
      this.finish({
        kind: 'interrupted',
        error: new Error(`history position ${e.seq} of ${this.lease.executionId} vanished`),
      });
      return NEVER;
    }
    this.history[e.seq] = entry as HistoryEntry;
    this.seen(entry as HistoryEntry);
    return entry as HistoryEntry;
  }

  /** Ends a waiting entry now (see endWait), handing the result over in its turn; false if the lease is lost. */
  private async endWaitNow(seq: number, output: string, failure: string | null = null): Promise<boolean> {
    const settled = this.order.assign();
    const now = new Date();
    if (!(await this.guard(() => this.writer.end(this.lease, { seq, output, at: now, settled, failure }))))
      return false;
    this.seenAt(now);
    await this.order.live(settled);
    return true;
  }

  private replayStep<T>(e: HistoryEntry): T {
    this.seen(e);
    if (e.status === 'completed') return e.output as T;
    throw new StepFailedError(
      e.name,
      e.error,
      `step '${e.name}' failed: ${e.error?.message ?? 'unknown error'}`,
      e.error?.code,
    );
  }

  private async step<T, I>(
    name: string,
    fn: (ctx: StepContext<I>) => Promise<T> | T,
    options: StepOptions<I> = {},
  ): Promise<T> {
    if (typeof name !== 'string' || name.length === 0)
      throw new BatonError(
        'E_INVALID_OPTION',
        `a step in workflow '${this.def.name}' needs a non-empty name`,
      );
    checkStorable(name, `a step name in workflow '${this.def.name}'`);
    const { seq, recorded } = this.position('step', name);
    if (recorded) return this.replayed(recorded, () => this.replayStep<T>(recorded));
    const retries = options.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0)
      throw new BatonError('E_INVALID_OPTION', `step '${name}': retries must be an integer of 0 or more`);
    const timeoutMs =
      options.timeout === undefined ? undefined : toMs(options.timeout, `step '${name}': timeout`);
    const inputText =
      options.input === undefined
        ? null
        : toJsonText(options.input, `input of step '${name}' in workflow '${this.def.name}'`);
    // The function sees the recorded form of its input, as an activity sees its input.
    const input = (inputText === null ? undefined : JSON.parse(inputText)) as I;
    const startedAt = new Date();
    for (let attempt = 1; ; attempt++) {
      const result = await this.attemptStep(name, seq, attempt, input, fn, timeoutMs);
      if (this.finished || this.signal.aborted) return NEVER;
      // Records the step's end and hands the workflow what a replay would return.
      const end = async (output: string | null, failure?: { error: unknown }) =>
        this.replayStep<T>(
          await this.recordSettled({
            seq,
            kind: 'step',
            name,
            status: failure ? 'failed' : 'completed',
            attempts: attempt,
            input: inputText,
            output,
            error: failure ? errorToJson(failure.error, attempt) : null,
            startedAt,
            finishedAt: new Date(),
          }),
        );
      if (result.ok) {
        let text: string;
        try {
          text = toJsonText(
            result.value === undefined ? null : result.value,
            `result of step '${name}' in workflow '${this.def.name}'`,
          );
        } catch (err) {
          // A result that cannot be stored fails the step for good; retrying would produce the same.
          return end(null, { error: err });
        }
        const settled = this.order.assign();
        const entry: NewEntry = {
          seq,
          kind: 'step',
          name,
          status: 'completed',
          attempts: attempt,
          input: inputText,
          output: text,
          error: null,
          startedAt,
          finishedAt: new Date(),
          settled,
        };
        this.unrecorded.push(entry);
        setImmediate(() => {
          if (!this.finished) void this.writeUnrecorded();
        });
        // The code gets what a replay would return: the JSON round trip of the result.
        const replayed: HistoryEntry = {
          ...entry,
          settled,
          input: input ?? null,
          output: JSON.parse(text),
          error: null,
        };
        this.history[seq] = replayed;
        await this.order.live(settled);
        return this.replayStep<T>(replayed);
      }
      if (attempt > retries) return end(null, { error: result.error });
      this.log.warn(
        { step: name, attempt, err: (result.error as Error)?.message },
        'workflow step failed; retrying',
      );
      await new Promise((r) => setTimeout(r, Math.min(10_000, 100 * 2 ** (attempt - 1))));
    }
  }

  /** One attempt of a step function, ended early by cancellation or its timeout. */
  private async attemptStep<T, I>(
    name: string,
    seq: number,
    attempt: number,
    input: I,
    fn: (ctx: StepContext<I>) => Promise<T> | T,
    timeoutMs: number | undefined,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    const controller = new AbortController();
    const onAbort = () =>
      controller.abort(this.signal.aborted ? this.signal.reason : this.ended_.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    this.ended_.signal.addEventListener('abort', onAbort, { once: true });
    const cancelTimer =
      timeoutMs === undefined
        ? undefined
        : after(timeoutMs, () =>
            controller.abort(new BatonError('E_TIMEOUT', `step '${name}' timed out after ${timeoutMs} ms`)),
          );
    const parent = activeContext();
    const span = startSpan(
      `step ${name}`,
      SpanKind.INTERNAL,
      {
        'baton.execution.id': this.lease.executionId,
        'baton.step': name,
        'baton.position': seq,
        'baton.attempt': attempt,
      },
      parent,
    );
    let failure: unknown;
    try {
      const aborted = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
      );
      aborted.catch(() => undefined);
      const value = await Promise.race([
        Promise.resolve().then(() =>
          withSpan(span, parent, () =>
            fn({
              input,
              idempotencyKey: this.key(seq),
              attempt,
              signal: controller.signal,
              artifacts: this.ledger.writer({
                execution: this.lease.executionId,
                attempt,
                step: name,
                position: seq,
                seed: this.seed(),
              }),
            }),
          ),
        ),
        aborted,
      ]);
      return { ok: true, value };
    } catch (error) {
      failure = error;
      return { ok: false, error };
    } finally {
      endSpan(span, failure);
      cancelTimer?.();
      this.signal.removeEventListener('abort', onAbort);
      this.ended_.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Starts an activity (a job run as its own execution) or a child workflow at this position: waits
   * for it when `wait` is set, else returns a handle whose result() waits for it later. The child's
   * id is derived from the position, so a replay after a crash finds the child it started rather
   * than starting another.
   */
  private async child(
    kind: 'activity' | 'child',
    def: JobDefinition | WorkflowDefinition,
    input: unknown,
    options: ChildOptions & { id?: string },
    wait: boolean,
  ): Promise<unknown> {
    const what = kind === 'activity' ? 'activity' : 'child workflow';
    if (kind === 'activity' ? !isJobDefinition(def) : !isWorkflowDefinition(def)) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `${kind === 'activity' ? 'ctx.run/startActivity' : 'ctx.runChild/startChild'} in workflow '${this.def.name}' needs a ${kind === 'activity' ? 'job definition (defineJob)' : 'workflow definition (defineWorkflow)'}`,
      );
    }
    const { seq, recorded } = this.position(kind, def.name);
    let entry = recorded;
    /** The ordinal this run gave handing the handle over (a start happening now). */
    let started: number | undefined;
    if (!entry) {
      const childId =
        options.id === undefined ? this.key(seq) : checkText(options.id, `the ${what} id`, 1000);
      const row = {
        id: childId,
        kind: kind === 'activity' ? ('activity' as const) : ('workflow' as const),
        name: def.name,
        queue: checkName(options.queue ?? def.queue, `${what} queue`),
        priority: options.priority ?? def.priority,
        runAtMs: null,
        delayMs: null,
        maxAttempts: isJobDefinition(def) ? def.retry.maxAttempts : WORKFLOW_REPLAYS,
        input: toJsonText(
          input === undefined ? null : input,
          `input of ${what} '${def.name}' in workflow '${this.def.name}'`,
        ),
        idempotencyKey: childId,
        concurrencyKey: null,
        concurrencyLimit: null,
        parentId: this.lease.executionId,
        timeoutMs: isWorkflowDefinition(def) ? def.timeoutMs : null,
        // the workflow's run (or step) span: the child's attempts join this trace
        traceContext: traceCarrier(),
      };
      const now = new Date();
      // A handle's entry waits too, until its result() records what the child came to; handing
      // the handle to the code is a result of its own, in the run's order.
      started = wait ? undefined : this.order.assign();
      const output = JSON.stringify(wait ? { childId } : { childId, detached: true, started });
      let result: EntryResult;
      let created: boolean;
      try {
        ({ result, created } = await this.tracked(() =>
          startChild(this.driver, this.lease, row, {
            seq,
            kind,
            name: def.name,
            status: 'waiting',
            attempts: 1,
            input: row.input,
            output,
            error: null,
            startedAt: now,
            finishedAt: null,
          }),
        ));
      } catch (err) {
        if (started !== undefined) this.order.skip(started);
        // An id taken by another execution is the workflow's mistake; anything else is the database's.
        if ((err as { code?: string }).code === '23505') {
          throw new BatonError(
            'E_INVALID_STATE',
            `${what} id '${childId}' is already used by another execution; choose another id`,
          );
        }
        this.finish({ kind: 'interrupted', error: err });
        return NEVER;
      }
      if (result === 'lost') return this.lose();
      // An execution that already had the child's idempotency key stands for it: it is read.
      if (created) this.startedHere.add(seq);
      entry =
        result === 'recorded'
          ? undefined
          : await this.guard(() => readEntry(this.driver, this.lease.executionId, seq));
      entry ??= {
        seq,
        kind,
        name: def.name,
        status: 'waiting',
        attempts: 1,
        input: JSON.parse(row.input),
        output: JSON.parse(output),
        error: null,
        startedAt: now,
        finishedAt: null,
        settled: null,
      };
      this.history[seq] = entry;
    }
    if (wait) return this.childResult(kind, def.name, seq);
    if (started !== undefined) await this.order.live(started);
    else await this.order.recorded((entry.output as { started?: number }).started ?? null);
    this.seen(entry);
    let settled: Promise<unknown> | undefined;
    const handle: ExecutionHandle<unknown> = {
      id: (entry.output as { childId: string }).childId,
      // Asked twice, the same answer: the first ask's promise.
      result: () => (settled ??= this.op(() => this.childResult(kind, def.name, seq))),
    };
    return handle;
  }

  /**
   * What the activity or child at `seq` came to: from history when recorded, else from its
   * execution, recorded now; the run suspends while it has not ended.
   */
  private async childResult(kind: 'activity' | 'child', name: string, seq: number): Promise<unknown> {
    const entry = this.history[seq];
    const out = entry.output as { childId: string; result?: unknown; detached?: boolean };
    // A completed entry without a result is a start recorded before handles existed: read the child.
    if (entry.status === 'completed' && 'result' in out)
      return this.replayed(entry, () => (this.seen(entry), out.result));
    if (entry.status === 'failed') {
      return this.replayed(entry, () => {
        this.seen(entry);
        throw new ChildFailedError(kind, name, out.childId, entry.error?.message ?? 'failed');
      });
    }
    // A child this run started began after the run's claim: it cannot have ended before it, and an
    // end since moves the signal count that the suspension checks. Nothing need be read.
    if (this.startedHere.has(seq)) return this.wait(null);
    const state = await this.childState(out.childId);
    const ended = { childId: out.childId, ...(out.detached ? { detached: true } : {}) };
    if (state?.status === 'completed') {
      const recorded = { ...ended, result: state.output };
      if (entry.status === 'waiting' && !(await this.endWaitNow(seq, JSON.stringify(recorded))))
        return this.lose();
      this.history[seq] = { ...entry, status: 'completed', output: recorded };
      return state.output;
    }
    if (!state || state.status === 'failed' || state.status === 'cancelled') {
      const message = state ? `${state.status}${state.error ? `: ${state.error.message}` : ''}` : 'vanished';
      const failure = JSON.stringify({ message, ...(state?.error?.code ? { code: state.error.code } : {}) });
      if (entry.status === 'waiting' && !(await this.endWaitNow(seq, JSON.stringify(ended), failure)))
        return this.lose();
      this.history[seq] = { ...entry, status: 'failed', error: JSON.parse(failure) };
      throw new ChildFailedError(kind, name, out.childId, message);
    }
    // Woken when the child ends (it bumps this workflow's signal count).
    return this.wait(null);
  }

  /**
   * A child's state. The first ask reads every child the history waits for, in one round trip: a
   * replay asks for each of them in turn (a fan-out waits for many).
   */
  private async childState(childId: string): Promise<ChildState | undefined> {
    this.waitedChildren ??= this.guard(() => {
      const ids: string[] = [];
      for (const e of this.history) {
        const child = e && (e.kind === 'activity' || e.kind === 'child');
        if (child && e.status === 'waiting' && !this.startedHere.has(e.seq))
          ids.push((e.output as { childId: string }).childId);
      }
      return childStates(this.driver, ids);
    });
    const known = await this.waitedChildren;
    if (known.has(childId)) return known.get(childId);
    return (await this.guard(() => childStates(this.driver, [childId]))).get(childId);
  }

  private async continueAsNew(next: unknown): Promise<never> {
    if (this.finished) return NEVER;
    const text = toJsonText(
      next === undefined ? null : next,
      `input of continueAsNew in workflow '${this.def.name}'`,
    );
    if (this.def.schema) {
      try {
        this.def.schema.parse(JSON.parse(text));
      } catch (err) {
        throw new BatonError(
          'E_INPUT_INVALID',
          `input of continueAsNew in workflow '${this.def.name}' does not match its schema: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    this.finish({ kind: 'continued', input: text, steps: this.next });
    return NEVER;
  }

  private async patched(changeId: string): Promise<boolean> {
    if (typeof changeId !== 'string' || changeId.length === 0) {
      throw new BatonError('E_INVALID_OPTION', `patched() in workflow '${this.def.name}' needs a change id`);
    }
    checkStorable(changeId, `the change id of patched() in workflow '${this.def.name}'`);
    const recorded = this.history[this.next];
    if (recorded && recorded.kind === 'patch' && recorded.name === changeId) {
      this.next++;
      return this.replayed(recorded, () => (this.seen(recorded), true));
    }
    // History from before the change has something else here: that run keeps the old path and
    // the marker takes no position.
    if (recorded) return false;
    const seq = this.next++;
    const now = new Date();
    await this.recordSettled({
      seq,
      kind: 'patch',
      name: changeId,
      status: 'completed',
      attempts: 1,
      output: null,
      error: null,
      startedAt: now,
      finishedAt: now,
    });
    return true;
  }

  private async setEvent(key: string, value: unknown): Promise<void> {
    if (typeof key !== 'string' || key.length === 0)
      throw new BatonError('E_INVALID_OPTION', `setEvent in workflow '${this.def.name}' needs a key`);
    checkStorable(key, `the key of an event in workflow '${this.def.name}'`);
    const text = toJsonText(
      value === undefined ? null : value,
      `value of event '${key}' in workflow '${this.def.name}'`,
    );
    const { seq, recorded } = this.position('event', key);
    if (recorded) return this.replayed(recorded, () => void this.seen(recorded));
    const now = new Date();
    const settled = this.order.assign();
    const result = await this.guard(() => recordEvent(this.driver, this.lease, seq, key, text, now, settled));
    if (result === 'lost') return this.lose();
    this.seenAt(now);
    await this.order.live(settled);
  }

  private async sleepUntil(wakeAtMs: number, name: string): Promise<void> {
    const { seq, recorded } = this.position('sleep', name);
    let entry = recorded;
    if (!entry) {
      const now = new Date();
      const due = wakeAtMs <= now.getTime();
      const e = {
        seq,
        kind: 'sleep' as const,
        name,
        status: due ? ('completed' as const) : ('waiting' as const),
        attempts: 1,
        output: JSON.stringify({ wakeAt: new Date(wakeAtMs).toISOString() }),
        error: null,
        startedAt: now,
        finishedAt: due ? now : null,
      };
      if (due) return void (await this.recordSettled(e));
      entry = await this.record(e);
    } else if (entry.status === 'completed') {
      return this.replayed(entry, () => void this.seen(entry!));
    }
    // The recorded wake time wins: a replay sleeps only for what remains.
    const wakeAt = new Date((entry.output as { wakeAt: string }).wakeAt);
    if (Date.now() >= wakeAt.getTime()) {
      if (!(await this.endWaitNow(seq, JSON.stringify(entry.output)))) return this.lose();
      return;
    }
    return this.wait(wakeAt);
  }

  private async waitForSignal(name: string, timeout: Duration | undefined): Promise<unknown> {
    if (typeof name !== 'string' || name.length === 0)
      throw new BatonError(
        'E_INVALID_OPTION',
        `waitForSignal in workflow '${this.def.name}' needs a signal name`,
      );
    checkStorable(name, `the signal name waited for in workflow '${this.def.name}'`);
    const { seq, recorded } = this.position('signal', name);
    if (recorded?.status === 'completed') {
      const out = recorded.output as { payload?: unknown; timedOut?: boolean };
      return this.replayed(recorded, () => {
        this.seen(recorded);
        return out.timedOut ? null : (out.payload ?? null);
      });
    }
    const now = new Date();
    const settled = this.order.assign();
    const got = await this.guard(() => consumeSignal(this.driver, this.lease, seq, name, now, settled));
    if (got === 'lost') return this.lose();
    if (got) {
      this.seenAt(now);
      await this.order.live(settled);
      return got.payload;
    }
    this.order.skip(settled);
    let entry = recorded;
    if (!entry) {
      const deadline =
        timeout === undefined
          ? null
          : new Date(now.getTime() + toMs(timeout, `waitForSignal '${name}': timeout`));
      entry = await this.record({
        seq,
        kind: 'signal',
        name,
        status: 'waiting',
        attempts: 1,
        output: JSON.stringify({ deadline }),
        error: null,
        startedAt: now,
        finishedAt: null,
      });
    }
    const deadlineText = (entry.output as { deadline: string | null } | null)?.deadline ?? null;
    const deadline = deadlineText === null ? null : new Date(deadlineText);
    if (deadline && Date.now() >= deadline.getTime()) {
      if (!(await this.endWaitNow(seq, JSON.stringify({ timedOut: true })))) return this.lose();
      return null;
    }
    return this.wait(deadline);
  }

  /** Runs a history statement; a database failure interrupts the run instead of reaching the workflow code. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.tracked(fn);
    } catch (error) {
      this.finish({ kind: 'interrupted', error });
      return NEVER;
    }
  }

  private lose(): Promise<never> {
    this.finish({ kind: 'lost' });
    return NEVER;
  }

  /** Parks an operation until the workflow is resumed; `until` is when it is due (null: a signal only). */
  private wait(until: Date | null): Promise<never> {
    this.waits.push(until);
    // The operation never settles (the run ends first), so op()'s own accounting never runs for it.
    this.busy--;
    this.checkQuiescent();
    return NEVER;
  }

  /**
   * Suspends once nothing is running and something waits. The check runs on a later turn of the
   * event loop so that code continuing after a settled operation can start the next one first.
   */
  private checkQuiescent(): void {
    if (this.quiescenceCheck || this.finished) return;
    this.quiescenceCheck = true;
    setImmediate(() => {
      this.quiescenceCheck = false;
      if (this.finished || this.busy > 0 || this.waits.length === 0) return;
      const due = this.waits.filter((w): w is Date => w !== null);
      const wakeAt = due.length ? new Date(Math.min(...due.map((d) => d.getTime()))) : null;
      // Nothing runs, so nothing can add to what is unrecorded meanwhile.
      void this.writeUnrecorded().then(() =>
        this.finish({ kind: 'suspended', wakeAt, knownSignals: this.knownSignals }),
      );
    });
  }
}

function nondeterminism(workflow: string, seq: number, recorded: string, asked: string): BatonError {
  return new BatonError(
    'E_NONDETERMINISM',
    `workflow '${workflow}' no longer matches its history at position ${seq}: the history recorded ${recorded}, the code asked for ${asked}. ` +
      'Keep the old path for runs that started before the change (see docs/workflows.md), or cancel and restart them.',
    { details: { position: seq, recorded, asked } },
  );
}
