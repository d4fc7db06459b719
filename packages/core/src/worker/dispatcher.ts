// Dispatch: runs what the claimer buffered, up to the worker's concurrency, each run with its own
// Attempt (signal, abort) and a safety net under it.
import { BatonError } from '../errors.js';
import { Attempt, type AbortKind } from '../attempt.js';
import type { ClaimedRow } from '../sql/claim.js';
import type { JobDefinition } from '../job.js';
import type { WorkflowDefinition } from '../workflow/definition.js';
import type { Lifecycle } from './lifecycle.js';
import type { Claimer } from './claimer.js';
import { runJobAttempt, type JobAttemptHost } from './job-attempt.js';
import { runWorkflowAttempt, type WorkflowAttemptHost } from './workflow-attempt.js';

/** What dispatch needs from its worker: what attempts need, and a word when one ends. */
export interface DispatchHost extends JobAttemptHost, WorkflowAttemptHost {
  /** An attempt ended (its progress can be forgotten, a limit slot it held is free). */
  ended(row: ClaimedRow): void;
}

interface Running {
  row: ClaimedRow;
  attempt: Attempt;
}

export class Dispatcher {
  private readonly running = new Map<string, Running>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly definitions: {
      readonly jobs: ReadonlyMap<string, JobDefinition>;
      readonly workflows: ReadonlyMap<string, WorkflowDefinition>;
      readonly concurrency: number;
    },
    private readonly claimer: Claimer,
    private readonly life: Lifecycle,
    private readonly host: DispatchHost,
  ) {}

  /** Attempts running now. */
  get size(): number {
    return this.running.size;
  }

  has(id: string): boolean {
    return this.running.has(id);
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  /** True while a handler is free. */
  get hasRoom(): boolean {
    return this.running.size < this.definitions.concurrency;
  }

  /** Starts buffered rows while handlers are free, then lets the claimer refill. */
  dispatch(): void {
    while (
      this.running.size < this.definitions.concurrency &&
      this.claimer.buffered > 0 &&
      this.life.phase !== 'stopped'
    ) {
      const row = this.claimer.take()!;
      this.runOne(row).catch((err: unknown) => this.runFailed(row, err));
    }
    this.claimer.refill();
  }

  /** Aborts one running attempt (a cancellation); one still in the buffer runs or is given back as usual. */
  cancel(id: string): void {
    this.running
      .get(id)
      ?.attempt.abort('cancelled', new BatonError('E_CANCELLED', `execution ${id} was cancelled`));
  }

  /** Aborts every running attempt with `kind`, each with the error `errorFor` makes for it. */
  abortAll(kind: AbortKind, errorFor: (row: ClaimedRow) => BatonError): void {
    for (const r of this.running.values()) r.attempt.abort(kind, errorFor(r.row));
  }

  /** Resolves when nothing runs. */
  async drained(): Promise<void> {
    while (this.running.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private async runOne(row: ClaimedRow): Promise<void> {
    const attempt = new Attempt();
    this.running.set(row.id, { row, attempt });
    let over = false;
    const ended = () => {
      if (over) return;
      over = true;
      this.running.delete(row.id);
      this.host.ended(row);
      this.dispatch();
      if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    try {
      const workflow = this.definitions.workflows.get(row.name);
      if (workflow) await runWorkflowAttempt(row, workflow, attempt, this.host);
      else await runJobAttempt(row, this.definitions.jobs.get(row.name)!, attempt, this.host, ended);
    } finally {
      ended();
    }
  }

  /**
   * The safety net under runOne: an error that escaped it (a bug, or a database error on a path
   * that does not expect one) is logged and the execution given back, rather than crashing the
   * process or leaving the execution leased to a worker that forgot it.
   */
  private runFailed(row: ClaimedRow, err: unknown): void {
    this.host.log.error(
      { execution: row.id, err: (err as Error)?.message },
      'unexpected error running an execution; giving it back',
    );
    void this.host.outcomes.finish(row, { kind: 'released' }, null);
  }
}
