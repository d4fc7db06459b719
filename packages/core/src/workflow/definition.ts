import { BatonError } from '../errors.js';
import type { ArtifactWriter } from '../artifacts/ledger.js';
import { checkName, PRIORITY_MAX, type InputSchema, type JobDefinition } from '../job.js';
import { checkInt } from '../check.js';
import { toMs, type Duration } from '../duration.js';
import type { Json } from '../json.js';
import type { Logger } from '../logger.js';

/** What a step function receives. */
export interface StepContext<I = undefined> {
  /**
   * The step's declared input (`options.input`) as recorded in its history entry: its JSON round
   * trip, so the first run sees exactly what `describe()` shows. Undefined when none was declared.
   */
  readonly input: I;
  /** `<execution id>:<position>`: the same on every attempt and replay; hand it to external systems. */
  readonly idempotencyKey: string;
  /** 1 on the first attempt of this step. */
  readonly attempt: number;
  /** Fires when the workflow is cancelled or the step times out. */
  readonly signal: AbortSignal;
  /** The workflow's artifacts, recorded as put by this step at its history position (docs/ledger.md). */
  readonly artifacts: ArtifactWriter;
}

export interface StepOptions<I = undefined> {
  /**
   * What the step works on, recorded in its history entry (shown by `describe()` and
   * `baton workflows show`) and handed to the step function as `ctx.input`. Must be JSON.
   * It is not compared on replay: a step is identified by its position and name only.
   */
  input?: I;
  /** Extra attempts after a failure, with exponential backoff from 100 ms. Default 0. */
  retries?: number;
  /** Per-attempt timeout. */
  timeout?: Duration;
}

/**
 * What a workflow function receives. Every method that touches the outside world is durable:
 * its result is recorded the first time and returned from history on every replay.
 */
/** Logs of a workflow that are written once: not again when the code is replayed. */
export type WorkflowLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>;

/** An activity or child workflow started without waiting for it. */
export interface ExecutionHandle<O = Json> {
  /** The execution's id (`baton jobs show <id>`, `client.result(id)`). */
  readonly id: string;
  /**
   * Its result: the workflow suspends until it ends, as `ctx.run` does; throws ChildFailedError if
   * it failed or was cancelled. Asking again returns the same result. Never asking does not hold
   * the workflow back: the execution runs and its outcome is recorded all the same.
   */
  result(): Promise<O>;
}

export interface WorkflowContext {
  readonly id: string;
  readonly name: string;
  /** Which run of this workflow id this is: 1, then one more after each continueAsNew. */
  readonly runNumber: number;
  /** Fires when the workflow is cancelled or passes its timeout. */
  readonly signal: AbortSignal;
  /** The worker's logger, bound to this workflow. It logs on every replay too: see `log`. */
  readonly logger: Logger;
  /** Like `logger`, but silent while the code replays what an earlier run already did: each line once. */
  readonly log: WorkflowLogger;
  /**
   * True while the code re-executes what an earlier run of it already did (its operations return
   * from history), false once it goes past the recorded history.
   */
  readonly isReplaying: boolean;
  /** Runs `fn` once and checkpoints its JSON result; on replay returns the recorded result (or rethrows its error). */
  step<T, I = undefined>(
    name: string,
    fn: (ctx: StepContext<I>) => Promise<T> | T,
    options?: StepOptions<I>,
  ): Promise<T>;
  /** Durable sleep: the workflow is suspended in the database and resumed when it is due, by any worker. */
  sleep(duration: Duration): Promise<void>;
  sleepUntil(date: Date): Promise<void>;
  /**
   * Waits for a signal sent with `client.signal(id, name, payload)` and returns its payload.
   * Signals sent before the wait are buffered, in order. With `timeout`, returns `null` when it passes.
   */
  waitForSignal<T = Json>(name: string, options?: { timeout?: Duration }): Promise<T | null>;
  /**
   * Versioning: true for runs that reach this point with code that has the change `changeId`,
   * false for runs whose history was recorded before it. Keep both paths until no old run is left:
   * `if (ctx.patched('send-sms')) { await ctx.step('sms', …) }`.
   */
  patched(changeId: string): Promise<boolean>;
  /**
   * Runs a job as an activity: its own execution on its queue (possibly served by another worker
   * pool), linked to this workflow, which suspends until it ends. Returns its result; throws
   * ChildFailedError if it failed or was cancelled.
   */
  run<I, O>(activity: JobDefinition<I, O>, input: I, options?: ChildOptions): Promise<O>;
  /** Starts a child workflow and waits for its result (the parent holds no memory meanwhile). */
  runChild<I, O>(
    workflow: WorkflowDefinition<I, O>,
    input: I,
    options?: ChildOptions & { id?: string },
  ): Promise<O>;
  /**
   * Starts a job as an activity without waiting for it: returns a handle once the start is
   * recorded. `await handle.result()` later suspends until it ends, as `run` does.
   */
  startActivity<I, O>(
    activity: JobDefinition<I, O>,
    input: I,
    options?: ChildOptions,
  ): Promise<ExecutionHandle<O>>;
  /**
   * Starts a child workflow without waiting: returns a handle (`handle.id`, `handle.result()`)
   * once the start is recorded. Cancelling the parent cancels it too.
   */
  startChild<I, O>(
    workflow: WorkflowDefinition<I, O>,
    input: I,
    options?: ChildOptions & { id?: string },
  ): Promise<ExecutionHandle<O>>;
  /**
   * Ends this run and starts a fresh run of the same workflow id with `input` and an empty history,
   * so that a workflow that loops for ever does not grow without bound. Signals not taken yet wait
   * for the next run; the timeout, if any, carries over. `input` must be JSON (E_NOT_JSON). Never
   * returns: the code stops here.
   */
  continueAsNew<I>(input: I): Promise<never>;
  /** Publishes progress that callers read with `client.getEvent(id, key)` while the workflow runs. */
  setEvent(key: string, value: Json): Promise<void>;
  /** Deterministic time: the moment of the latest recorded event (or the workflow's start); the same on replay. */
  now(): Date;
  /** Deterministic random number in [0, 1): the same sequence on every replay. */
  random(): number;
  /** Deterministic UUID (version 4 layout), from the same sequence as random(). */
  uuid(): string;
}

export interface ChildOptions {
  queue?: string;
  priority?: number;
}

/** A workflow is replayed after this many crashed runs at most before it fails (E_LEASE_EXPIRED). */
export const WORKFLOW_REPLAYS = 10;

export interface WorkflowOptions<I> {
  queue?: string;
  priority?: number;
  schema?: InputSchema<I>;
  /**
   * How long a run of this workflow may take, counted from when it is due (its start, or its
   * runAt): past it the workflow fails with E_TIMEOUT, the steps it is running and the activities
   * and child workflows it started get their AbortSignal. At least 1 ms. `start()` may override it.
   * It spans ctx.continueAsNew: the next run keeps the deadline.
   */
  timeout?: Duration;
}

const WORKFLOW = Symbol.for('baton.workflow');

export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly [WORKFLOW]: true;
  readonly name: string;
  readonly queue: string;
  readonly priority: number;
  readonly schema: InputSchema<I> | undefined;
  /** The default timeout in milliseconds (options.timeout), or null for none. */
  readonly timeoutMs: number | null;
  // Method syntax keeps definitions of different input types assignable to WorkflowDefinition.
  run(ctx: WorkflowContext, input: I): Promise<O>;
}

/**
 * Defines a workflow: deterministic orchestration code, re-executed (replayed) from its recorded
 * history whenever it resumes.
 */
export function defineWorkflow<I = unknown, O = unknown>(
  name: string,
  options: WorkflowOptions<I>,
  fn: (ctx: WorkflowContext, input: I) => Promise<O>,
): WorkflowDefinition<I, O> {
  checkName(name, 'workflow name');
  if (typeof fn !== 'function')
    throw new BatonError('E_INVALID_OPTION', `workflow '${name}': the function must be a function`);
  const priority = checkInt(options.priority, `workflow '${name}': priority`, -PRIORITY_MAX, PRIORITY_MAX, 0);
  return {
    [WORKFLOW]: true,
    name,
    queue: checkName(options.queue ?? 'default', `workflow '${name}': queue`),
    priority,
    schema: options.schema,
    timeoutMs:
      options.timeout === undefined ? null : checkTimeout(options.timeout, `workflow '${name}': timeout`),
    run: fn,
  };
}

/** A workflow timeout in milliseconds: a Duration of at least 1 ms. */
export function checkTimeout(value: Duration, what: string): number {
  const ms = toMs(value, what);
  if (ms < 1) throw new BatonError('E_INVALID_OPTION', `${what} must be at least 1 ms, got ${String(value)}`);
  return ms;
}

export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[WORKFLOW] === true;
}
