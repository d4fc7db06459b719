import { BatonError } from './errors.js';
import type { ArtifactWriter } from './artifacts/ledger.js';
import { checkInt, INT_MAX } from './check.js';
import { toMs, type Duration } from './duration.js';
import type { Json } from './json.js';
import type { Logger } from './logger.js';

/** What a job handler receives besides its input. */
export interface JobContext {
  /** The execution id. */
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Fires when the job is cancelled, its attempt times out, or the worker shuts down past its deadline. */
  readonly signal: AbortSignal;
  /** Logger bound to this execution. */
  readonly logger: Logger;
  /**
   * Reports liveness (and optional progress, stored on the execution and shown by `baton jobs show`).
   * With `heartbeatTimeout` set, an attempt that stops calling this is aborted and counted as failed.
   */
  heartbeat(progress?: Json): void;
  /** This execution's artifacts: `put` stores bytes, text or JSON in the ledger (docs/ledger.md). */
  readonly artifacts: ArtifactWriter;
}

/** Retry policy: `maxAttempts` in all, waiting `min(maxDelay, baseDelay * factor^(attempt-1))` with full jitter between. */
export interface RetryOptions {
  /** Attempts in all, including the first. Default 3. */
  maxAttempts?: number;
  /** Default 1s. */
  baseDelay?: Duration;
  /** Default 10m. */
  maxDelay?: Duration;
  /** Default 2. */
  factor?: number;
  /** `full` (default) draws the delay uniformly from [0, delay]; `none` uses the delay as is. */
  jitter?: 'full' | 'none';
}

/** Anything with zod's `parse`: validates and returns the typed input, or throws. */
export interface InputSchema<I> {
  parse(value: unknown): I;
}

export interface JobOptions<I> {
  /** Queue the job is enqueued on unless the enqueue call says otherwise. Default `default`. */
  queue?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  retry?: RetryOptions;
  /** Per-attempt timeout: the handler's signal is aborted and the attempt fails. */
  timeout?: Duration;
  /** Abort an attempt that has not called `ctx.heartbeat()` for this long. */
  heartbeatTimeout?: Duration;
  /** Validates the input when enqueued and again before the handler runs. */
  schema?: InputSchema<I>;
}

/** A job handler. Its return value is stored as the job's result and must be JSON. */
export type JobHandler<I, O> = (input: I, ctx: JobContext) => Promise<O> | O;

const JOB = Symbol.for('baton.job');

/** A defined job: pass it to a Worker to run it and to a Client to enqueue it. */
export interface JobDefinition<I = unknown, O = unknown> {
  readonly [JOB]: true;
  readonly name: string;
  readonly queue: string;
  readonly priority: number;
  readonly retry: Required<Omit<RetryOptions, 'baseDelay' | 'maxDelay'>> & {
    baseDelayMs: number;
    maxDelayMs: number;
  };
  readonly timeoutMs: number | undefined;
  readonly heartbeatTimeoutMs: number | undefined;
  readonly schema: InputSchema<I> | undefined;
  // Method syntax keeps definitions of different input types assignable to JobDefinition (for `jobs: [a, b]`).
  handler(input: I, ctx: JobContext): Promise<O> | O;
}

/** Priorities run from -PRIORITY_MAX to PRIORITY_MAX; higher runs first. */
export const PRIORITY_MAX = 1_000_000;

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:\-/]{0,199}$/;

/** Checks a job, queue or schedule name; names appear in URLs, logs and the CLI. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} ${JSON.stringify(name)} is not valid: use 1-200 characters of letters, digits, _ . : - /, not starting with a punctuation mark`,
    );
  }
  return name;
}

/**
 * Defines a job.
 *
 * ```ts
 * export const sendEmail = defineJob('send-email', { retry: { maxAttempts: 5 } }, async (input: { to: string }, ctx) => {
 *   await mailer.send(input.to, { idempotencyKey: ctx.id });
 * });
 * ```
 */
export function defineJob<I = unknown, O = unknown>(
  name: string,
  options: JobOptions<I>,
  handler: JobHandler<I, O>,
): JobDefinition<I, O> {
  checkName(name, 'job name');
  if (typeof handler !== 'function') {
    throw new BatonError('E_INVALID_OPTION', `job '${name}': the handler must be a function`);
  }
  const retry = options.retry ?? {};
  const factor = retry.factor ?? 2;
  if (!(factor >= 1))
    throw new BatonError('E_INVALID_OPTION', `job '${name}': retry.factor must be at least 1`);
  return {
    [JOB]: true,
    name,
    queue: checkName(options.queue ?? 'default', `job '${name}': queue`),
    priority: checkInt(options.priority, `job '${name}': priority`, -PRIORITY_MAX, PRIORITY_MAX, 0),
    retry: {
      maxAttempts: checkInt(retry.maxAttempts, `job '${name}': retry.maxAttempts`, 1, INT_MAX, 3),
      baseDelayMs: toMs(retry.baseDelay ?? 1000, `job '${name}': retry.baseDelay`),
      maxDelayMs: toMs(retry.maxDelay ?? 600_000, `job '${name}': retry.maxDelay`),
      factor,
      jitter: retry.jitter ?? 'full',
    },
    timeoutMs: options.timeout === undefined ? undefined : toMs(options.timeout, `job '${name}': timeout`),
    heartbeatTimeoutMs:
      options.heartbeatTimeout === undefined
        ? undefined
        : toMs(options.heartbeatTimeout, `job '${name}': heartbeatTimeout`),
    schema: options.schema,
    handler,
  };
}

/** True for values made by defineJob (also across copies of this package). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB] === true;
}

/** Delay before the next attempt after `attempt` failed. */
export function retryDelayMs(def: JobDefinition, attempt: number, random = Math.random): number {
  const { baseDelayMs, maxDelayMs, factor, jitter } = def.retry;
  const delay = Math.min(maxDelayMs, baseDelayMs * factor ** (attempt - 1));
  return jitter === 'full' ? Math.round(delay * random()) : delay;
}
