import { BatonError } from './errors.js';
import { after } from './timers.js';
import { toJsonText, type Json } from './json.js';
import type { Attempt } from './attempt.js';
import type { JobContext, JobDefinition } from './job.js';
import type { Logger } from './logger.js';
import type { ClaimedRow } from './sql/claim.js';
import type { ArtifactStore, ArtifactWriter } from './artifacts/ledger.js';

/**
 * The context of one job attempt, and the attempt's timers (its timeout and heartbeat timeout).
 * A class rather than an object literal with getters: a worker makes tens of thousands of these a
 * second, and an object literal with accessors is built property by property each time.
 */
export class AttemptContext implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  private heartbeatTimer: (() => void) | undefined;
  private timeoutTimer: (() => void) | undefined;

  constructor(
    row: ClaimedRow,
    private readonly run: Attempt,
    private readonly def: JobDefinition,
    private readonly log: Logger,
    /** Where reported progress goes (JSON text), to be written with the worker's next heartbeat. */
    private readonly onProgress: (id: string, progress: string) => void,
    private readonly ledger: ArtifactStore,
  ) {
    this.id = row.id;
    this.name = row.name;
    this.queue = row.queue;
    this.attempt = row.attempts;
    this.maxAttempts = row.max_attempts;
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }

  get artifacts(): ArtifactWriter {
    return this.ledger.writer({ execution: this.id, attempt: this.attempt });
  }

  get logger(): Logger {
    return this.log.child({ job: this.name, execution: this.id, attempt: this.attempt });
  }

  // An arrow function: handlers may call it detached (`const { heartbeat } = ctx`).
  heartbeat = (progress?: Json): void => {
    this.armHeartbeatTimeout();
    if (progress !== undefined)
      this.onProgress(this.id, toJsonText(progress, `progress of job '${this.name}'`));
  };

  /** Arms the attempt's timeout and heartbeat timeout, when the job has them. */
  start(): void {
    this.armHeartbeatTimeout();
    const ms = this.def.timeoutMs;
    if (ms === undefined) return;
    this.timeoutTimer = after(ms, () => {
      this.run.abort(
        'timeout',
        new BatonError('E_TIMEOUT', `job '${this.name}' attempt ${this.attempt} timed out after ${ms} ms`),
      );
    });
  }

  /** Disarms the timers once the attempt has ended. */
  end(): void {
    this.timeoutTimer?.();
    this.heartbeatTimer?.();
  }

  private armHeartbeatTimeout(): void {
    const ms = this.def.heartbeatTimeoutMs;
    if (ms === undefined) return;
    this.heartbeatTimer?.();
    this.heartbeatTimer = after(ms, () => {
      this.run.abort(
        'timeout',
        new BatonError('E_TIMEOUT', `job '${this.name}' sent no heartbeat for ${ms} ms`),
      );
    });
  }
}
