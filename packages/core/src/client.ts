import { producing } from './telemetry/trace.js';
import { BatonError } from './errors.js';
import { toMs, type Duration } from './duration.js';
import { toJsonText, type Json } from './json.js';
import { newId } from './ids.js';
import { checkName, isJobDefinition, PRIORITY_MAX, type JobDefinition } from './job.js';
import { insertClaimed, insertExecutions, type NewExecution } from './sql/enqueue.js';
import { wakeupSql } from './wakeup.js';
import { nearest } from './suggest.js';
import { isConnectionError } from './driver/postgres.js';
import { checkDate, checkInt, checkOneOf, checkText, INT_MAX } from './check.js';
import { cancelTree } from './sql/cancel.js';
import { signalSql } from './sql/signal.js';
import {
  checkTimeout,
  isWorkflowDefinition,
  WORKFLOW_REPLAYS,
  type WorkflowDefinition,
} from './workflow/definition.js';
import { pastRuns, toEntry, type HistoryEntry, type PastRun } from './workflow/history.js';
import {
  EXECUTION_COLUMNS,
  EXECUTION_KINDS,
  EXECUTION_STATUSES,
  SUMMARY_COLUMNS,
  toExecution,
  toExecutionSummary,
  type Execution,
  type ExecutionSummary,
  type ExecutionStatus,
  type ExecutionKind,
} from './execution.js';
import type { Store } from './store.js';
import type { ArtifactReader } from './artifacts/ledger.js';
import type { Queryable } from './driver/types.js';
import { statementName } from './driver/statement-name.js';

/** Per-call enqueue options; they override the job's defaults. */
export interface EnqueueOptions {
  queue?: string;
  /** Higher runs first. */
  priority?: number;
  /** Run no earlier than this moment. */
  runAt?: Date;
  /** Run no earlier than this long from now (the database's clock). Negative delays are refused. */
  delay?: Duration;
  /**
   * Deduplicates enqueues: while an execution of this job with this key exists, enqueueing again
   * returns it instead of creating another. The key is free again once that execution has been
   * pruned by retention (see docs/jobs.md).
   */
  idempotencyKey?: string;
  /** Jobs with the same key run at most `concurrencyLimit` (default 1) at a time, across all workers. */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** Overrides the job's retry.maxAttempts. */
  maxAttempts?: number;
}

/** What enqueue returns. */
export interface Enqueued {
  id: string;
  /** False when an execution with the same idempotency key already existed and was returned instead. */
  created: boolean;
}

/** One item of enqueueMany. */
export interface EnqueueItem<I> {
  input: I;
  options?: EnqueueOptions;
}

export interface ListFilter {
  status?: ExecutionStatus | ExecutionStatus[];
  /**
   * Dead letters only: executions that failed for good (out of attempts, or a NonRetryableError).
   * They stay until retention prunes them (30 days by default); `retryDead` puts them back.
   */
  dead?: boolean;
  queue?: string;
  name?: string;
  kind?: ExecutionKind;
  /** Newest first; at most this many (default 50, at most 1000). */
  limit?: number;
  /** Only executions older than this id (for paging). */
  before?: string;
  /** Only the activities and child workflows this workflow started. */
  parentId?: string;
  /** Only executions whose id or name contains this text (case-insensitive). */
  search?: string;
  /** Only executions created at or after this moment. */
  createdAfter?: Date;
  /** Only executions created before this moment. */
  createdBefore?: Date;
}

/** Which dead letters `retryDead` retries; every field narrows. */
export interface RetryFilter {
  name?: string;
  queue?: string;
  kind?: ExecutionKind;
}

export interface QueueSettings {
  /** At most this many executions of the queue run at once, across all workers. null removes the limit. */
  concurrency?: number | null;
  /** At most `limit` starts per `interval`, across all workers. null removes the limit. */
  rateLimit?: { limit: number; interval: Duration } | null;
}

/** The earliest runAt accepted (0001-01-01): PostgreSQL stores no date before 4714 BC, and none is meant. */
const EARLIEST_RUN_AT = Date.parse('0001-01-01T00:00:00Z');

/** Lookups accept ids longer than a started workflow's 200 characters: child ids append `:<position>`. */
const MAX_ID = 1000;

const TERMINAL: ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * What a retry sets: queued now with a fresh set of attempts (past errors stay), and a workflow's
 * timeout counted again from now, or it would fail at once for the time its failed run took.
 */
const RETRY_SET = `status = 'queued', claimable = true, attempts = 0, run_at = now(), finished_at = NULL,
  started_at = NULL, cancel_requested = false, lease_owner = NULL,
  deadline_at = CASE WHEN timeout_ms IS NULL THEN NULL ELSE now() + timeout_ms * interval '1 millisecond' END`;

/** Looks a signal send makes for a workflow that is still running before it gives up (a few seconds). */
const SIGNAL_TRIES = 20;

export interface StartOptions {
  /** Your id for the run, e.g. `order-42`. Default: a new UUIDv7. */
  id?: string;
  queue?: string;
  priority?: number;
  /** Start no earlier than this moment (one in the past means now). */
  runAt?: Date;
  /** Start no earlier than this long from now (the database's clock). Negative delays are refused. */
  delay?: Duration;
  /** Overrides the workflow's timeout (defineWorkflow's `timeout`) for this run; at least 1 ms. */
  timeout?: Duration;
}

/**
 * Enqueues, inspects, cancels and retries executions. Clients need no worker: they only write
 * rows and wake workers with NOTIFY.
 */
export class Client {
  private readonly known = new Map<string, JobDefinition>();

  /** `jobs` lets `enqueue('name', …)` resolve names locally; otherwise names are checked against the database. */
  constructor(
    readonly store: Store,
    jobs: readonly JobDefinition[] = [],
  ) {
    for (const j of jobs) this.known.set(j.name, j);
  }

  /** The artifacts ledger: `get`, `list`, `find` and `verify` what executions stored (docs/ledger.md). */
  get artifacts(): ArtifactReader {
    return this.store.artifacts;
  }

  /** Enqueues one job. */
  async enqueue<I>(
    job: JobDefinition<I> | string,
    input: I,
    options: EnqueueOptions = {},
  ): Promise<Enqueued> {
    const [out] = await this.enqueueMany(job, [{ input, options }]);
    return out;
  }

  /** Enqueues many jobs of one kind in one round trip. Results are in the order of `items`. */
  async enqueueMany<I>(
    job: JobDefinition<I> | string,
    items: readonly EnqueueItem<I>[],
  ): Promise<Enqueued[]> {
    if (!Array.isArray(items))
      throw new BatonError('E_INVALID_OPTION', 'enqueueMany expects an array of { input, options? } items');
    if (items.length === 0) return [];
    const def = await this.resolve(job);
    const rows: NewExecution[] = items.map((item, i) => {
      if (typeof item !== 'object' || item === null || !('input' in item)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `enqueueMany item ${i} must be an object { input, options? }`,
        );
      }
      return this.toRow(def, item.input, item.options ?? {}, items.length > 1 ? `item ${i}` : undefined);
    });
    const out = await producing(
      `enqueue ${def.name}`,
      { 'baton.job': def.name, 'baton.queue': rows[0]!.queue, 'baton.count': rows.length },
      (traceContext) => {
        for (const row of rows) row.traceContext = traceContext;
        return insertExecutions(this.store.driver, rows);
      },
    );
    return out.map((o) => ({ id: o.id, created: o.inserted }));
  }

  /** The row of a workflow run (its id and kind are the caller's). */
  private workflowRow<I>(
    def: { name: string; queue: string; priority: number; schema?: WorkflowDefinition<I>['schema'] },
    input: I,
    o: EnqueueOptions,
    item?: string,
  ): NewExecution {
    const base = { name: def.name, queue: def.queue, priority: def.priority, schema: def.schema };
    return this.toRow({ ...base, maxAttempts: WORKFLOW_REPLAYS }, input, o, item, 'workflow');
  }

  private toRow<I>(
    def: {
      name: string;
      queue: string;
      priority: number;
      maxAttempts: number;
      schema?: JobDefinition<I>['schema'];
    },
    input: I,
    o: EnqueueOptions,
    item?: string,
    noun: 'job' | 'workflow' = 'job',
  ): NewExecution {
    const where = `input of ${noun} '${def.name}'${item ? ` (${item})` : ''}`;
    let value: unknown = input;
    if (def.schema) {
      try {
        value = def.schema.parse(input);
      } catch (err) {
        throw new BatonError(
          'E_INPUT_INVALID',
          `${where} does not match the job's schema: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    const text = toJsonText(value === undefined ? null : value, where);
    if (o.runAt !== undefined && (!(o.runAt instanceof Date) || !(o.runAt.getTime() >= EARLIEST_RUN_AT))) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `runAt for ${noun} '${def.name}' must be a valid Date from the year 1 on, got ${String(o.runAt)}`,
      );
    }
    if (o.runAt !== undefined && o.delay !== undefined) {
      throw new BatonError('E_INVALID_OPTION', `${noun} '${def.name}': give either runAt or delay, not both`);
    }
    if (o.idempotencyKey !== undefined)
      checkText(o.idempotencyKey, `${noun} '${def.name}': idempotencyKey`, 500);
    if (o.concurrencyKey !== undefined)
      checkText(o.concurrencyKey, `${noun} '${def.name}': concurrencyKey`, 500);
    if (o.concurrencyLimit !== undefined && o.concurrencyKey === undefined) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `${noun} '${def.name}': concurrencyLimit needs a concurrencyKey`,
      );
    }
    return {
      id: newId(),
      kind: 'job',
      name: def.name,
      queue: o.queue === undefined ? def.queue : checkName(o.queue, 'queue'),
      priority:
        checkInt(o.priority, `${noun} '${def.name}': priority`, -PRIORITY_MAX, PRIORITY_MAX) ?? def.priority,
      runAtMs: o.runAt ? o.runAt.getTime() : null,
      delayMs: o.delay === undefined ? null : toMs(o.delay, `${noun} '${def.name}': delay`),
      maxAttempts:
        checkInt(o.maxAttempts, `${noun} '${def.name}': maxAttempts`, 1, INT_MAX) ?? def.maxAttempts,
      input: text,
      idempotencyKey: o.idempotencyKey ?? null,
      concurrencyKey: o.concurrencyKey ?? null,
      concurrencyLimit:
        checkInt(o.concurrencyLimit, `${noun} '${def.name}': concurrencyLimit`, 1, INT_MAX) ??
        (o.concurrencyKey ? 1 : null),
      parentId: null,
    };
  }

  /** Finds a job's defaults by definition, local name, or a name some worker registered. */
  private async resolve<I>(job: JobDefinition<I> | string): Promise<{
    name: string;
    queue: string;
    priority: number;
    maxAttempts: number;
    schema?: JobDefinition<I>['schema'];
  }> {
    if (isJobDefinition(job)) {
      const def = job as JobDefinition<I>;
      return {
        name: def.name,
        queue: def.queue,
        priority: def.priority,
        maxAttempts: def.retry.maxAttempts,
        schema: def.schema,
      };
    }
    if (typeof job !== 'string')
      throw new BatonError('E_INVALID_OPTION', 'enqueue expects a job definition or a job name');
    const local = this.known.get(job);
    if (local) return this.resolve(local as JobDefinition<I>);
    const hit = await this.registered('job', job);
    return { name: hit.name, queue: hit.queue, priority: 0, maxAttempts: 3 };
  }

  /** A definition some worker registered, or a clear error naming the nearest registered name. */
  private async registered(
    kind: 'job' | 'workflow',
    name: string,
  ): Promise<{ name: string; queue: string; timeoutMs: number | null }> {
    const rows = await this.store.driver.query<{ name: string; queue: string; timeoutMs: number | null }>(
      'SELECT name, queue, timeout_ms AS "timeoutMs" FROM baton.definitions WHERE kind = $1',
      [kind],
    );
    const hit = rows.find((r) => r.name === name);
    if (hit) return hit;
    const names = rows.map((r) => r.name).sort();
    const near = nearest(name, names);
    throw new BatonError(
      kind === 'job' ? 'E_UNKNOWN_JOB' : 'E_UNKNOWN_WORKFLOW',
      `no ${kind} named '${name}' is defined${near ? ` — did you mean '${near}'?` : '.'} ` +
        (names.length
          ? `Known ${kind}s: ${names.join(', ')}.`
          : `No worker has registered any ${kind} yet: start a worker with the module that defines it.`),
      { details: { name, known: names } },
    );
  }

  /**
   * Starts a workflow. With `id`, starting again with the same id returns the existing run
   * (`created: false`) whatever its state; an id used by another workflow is refused.
   *
   * When a worker in this process runs this workflow on this queue, the queue has no global limit
   * and the worker has a free handler, the workflow starts there at once, ahead of the queue; it
   * is durable all the same, and any worker takes it over if this process dies.
   */
  async start<I>(
    workflow: WorkflowDefinition<I> | string,
    input: I,
    options: StartOptions = {},
  ): Promise<Enqueued> {
    let def: {
      name: string;
      queue: string;
      priority: number;
      timeoutMs: number | null;
      schema?: WorkflowDefinition<I>['schema'];
    };
    if (isWorkflowDefinition(workflow)) def = workflow as WorkflowDefinition<I>;
    else if (typeof workflow === 'string')
      def = { ...(await this.registered('workflow', workflow)), priority: 0 };
    else
      throw new BatonError(
        'E_UNKNOWN_WORKFLOW',
        'start() expects a workflow definition (defineWorkflow) or the name of a registered workflow',
      );
    const id = checkText(options.id ?? newId(), 'workflow id', 200);
    const row = this.workflowRow(def, input, {
      queue: options.queue,
      priority: options.priority,
      idempotencyKey: id,
      runAt: options.runAt,
      delay: options.delay,
    });
    const timeoutMs =
      options.timeout === undefined
        ? def.timeoutMs
        : checkTimeout(options.timeout, `workflow '${def.name}': timeout`);
    return producing(
      `start ${def.name}`,
      { 'baton.workflow': def.name, 'baton.queue': row.queue, 'baton.execution.id': id },
      async (traceContext) => {
        const execution = { ...row, id, kind: 'workflow' as const, timeoutMs, traceContext };
        // Due now: a start for later goes through the queue, which holds it until then.
        const dueNow = (row.runAtMs === null || row.runAtMs <= Date.now()) && !row.delayMs;
        try {
          // A worker of this process that runs this workflow and has a free handler takes it at once,
          // as DBOS runs a workflow in the process that starts it: the row goes in already claimed.
          const here = dueNow ? this.store.runnerFor(def.name, row.queue) : undefined;
          const started =
            here &&
            (await insertClaimed(this.store.driver, execution, here.id).catch((err: unknown) => {
              // The insert may have committed: the worker then holds a run it was never handed.
              if (isConnectionError(err)) here.startMayHaveCommitted();
              throw err;
            }));
          if (here && started) {
            here.runStartedHere({
              id,
              name: def.name,
              queue: row.queue,
              priority: row.priority,
              input: started.input,
              attempts: 1,
              max_attempts: row.maxAttempts,
              holds_slot: false,
              has_parent: false,
              deadline_at: started.deadlineAt,
              run: 1,
              trace_context: traceContext,
              startedHere: { createdAt: started.createdAt },
            });
            this.store.logger.debug(
              { workflow: def.name, execution: id, worker: here.id },
              'workflow started beside its worker',
            );
            return { id, created: true };
          }
          const [out] = await insertExecutions(this.store.driver, [execution]);
          return { id: out.id, created: out.inserted };
        } catch (err) {
          if ((err as { code?: string }).code === '23505') {
            const other = await this.get(id);
            throw new BatonError(
              'E_INVALID_STATE',
              `id '${id}' is already used by ${other.kind} '${other.name}'; choose another id`,
            );
          }
          throw err;
        }
      },
    );
  }

  /**
   * Starts many runs of one workflow in one statement, through the queue (none starts beside its
   * worker). Each needs an id; starting an id again returns the existing run (`created: false`).
   * An item with `waitFirst` begins suspended: its first run starts once that long has passed, or
   * as soon as a signal arrives, whichever is first (a run that would only wait for its first
   * signal, saved). With `db` (a transaction of this store's driver), the runs are inserted in the
   * caller's transaction: they exist if and only if the caller's own rows commit.
   */
  async startMany<I>(
    workflow: WorkflowDefinition<I>,
    items: readonly { input: I; id: string; waitFirst?: Duration }[],
    options: { db?: Queryable } = {},
  ): Promise<Enqueued[]> {
    if (!isWorkflowDefinition(workflow))
      throw new BatonError(
        'E_UNKNOWN_WORKFLOW',
        'startMany() expects a workflow definition (defineWorkflow)',
      );
    if (items.length === 0) return [];
    const def = workflow as WorkflowDefinition<I>;
    const rows = items.map((item, i) => {
      const id = checkText(item.id, 'workflow id', 200);
      const where = items.length > 1 ? `item ${i}` : undefined;
      const row = this.workflowRow(def, item.input, { idempotencyKey: id, delay: item.waitFirst }, where);
      const startsWaiting = item.waitFirst !== undefined;
      return { ...row, id, kind: 'workflow' as const, timeoutMs: def.timeoutMs, startsWaiting };
    });
    const out = await producing(
      `start ${def.name}`,
      { 'baton.workflow': def.name, 'baton.queue': rows[0]!.queue, 'baton.count': rows.length },
      (traceContext) => {
        for (const row of rows) row.traceContext = traceContext;
        return insertExecutions(options.db ?? this.store.driver, rows);
      },
    );
    return out.map((o) => ({ id: o.id, created: o.inserted }));
  }

  /**
   * Sends a signal to a workflow. Signals are buffered until a waitForSignal of that name takes
   * them, oldest first; none is lost. A waiting workflow is woken.
   *
   * With `idempotencyKey`, sending again with the same key for the same workflow stores nothing
   * new and succeeds, even once the workflow has finished: retry a send whose reply was lost
   * (a dropped connection) without delivering the signal twice.
   *
   * A send that races a change of the workflow (its creation, a run suspending) looks again on its
   * own, a bounded number of times; it throws only E_NOT_FOUND for an unknown id and E_INVALID_STATE
   * for a workflow that has finished or an execution that is not a workflow.
   */
  async signal(
    id: string,
    name: string,
    payload: unknown = null,
    options: { idempotencyKey?: string } = {},
  ): Promise<void> {
    checkName(name, 'signal name');
    const key = options.idempotencyKey;
    if (key !== undefined) checkText(key, 'signal idempotencyKey', 500);
    const text = toJsonText(payload === undefined ? null : payload, `payload of signal '${name}'`);
    const target = checkText(id, 'workflow id', MAX_ID);
    // A workflow that is being created, or that changes state, while the send looks for it is
    // looked for again: the caller never has to retry a send to a workflow that is still running.
    for (let tries = 1; ; tries++) {
      if (await this.sendSignal(target, name, text, key)) return;
      if (key !== undefined) {
        // Sent before (a retried send whose reply was lost), possibly before the workflow finished.
        const seen = await this.store.driver.query(
          'SELECT 1 FROM baton.signals WHERE execution_id = $1 AND idempotency_key = $2',
          [target, key],
        );
        if (seen.length > 0) return;
      }
      const [found] = await this.store.driver.query<{ kind: ExecutionKind; status: ExecutionStatus }>(
        'SELECT kind, status FROM baton.executions WHERE id = $1',
        [target],
      );
      if (!found) throw notFound(target);
      if (found.kind !== 'workflow')
        throw new BatonError(
          'E_INVALID_STATE',
          `execution ${target} is a ${found.kind}, not a workflow; only workflows take signals`,
        );
      if (TERMINAL.includes(found.status))
        throw new BatonError(
          'E_INVALID_STATE',
          `workflow ${target} is already ${found.status}; signals can only be sent to workflows that have not finished`,
        );
      if (tries >= SIGNAL_TRIES)
        throw new BatonError(
          'E_INVALID_STATE',
          `workflow ${target} kept changing while the signal was being sent (${tries} tries); send it again (with an idempotencyKey it is stored once)`,
        );
      await new Promise((r) => setTimeout(r, Math.min(200, 2 ** tries)));
    }
  }

  /**
   * One attempt at storing a signal and waking its workflow; false if no unfinished workflow took
   * it. The workflow's row is locked first, so that two sends with the same key (a retry racing the
   * send it repeats) serialise: the second finds the first's signal and stores and counts nothing.
   */
  private async sendSignal(
    id: string,
    name: string,
    payload: string,
    key: string | undefined,
  ): Promise<boolean> {
    const [r] = await this.store.driver.query<{ active: number }>(
      `WITH ${signalSql({ ids: 'SELECT $1::text', name: '$2', payload: '$3::jsonb', key: '$4' })}
       SELECT count(*)::int AS active FROM signal_target`,
      [id, name, payload, key ?? null],
      'baton_signal',
    );
    // An active workflow with this key's signal already stored counts as sent: it was, once.
    return r.active === 1;
  }

  /**
   * Reads progress a workflow published with ctx.setEvent. Waits up to `timeout` (default: no
   * wait) for the key to appear; returns `undefined` if it has not.
   */
  async getEvent<T = Json>(
    id: string,
    key: string,
    options: { timeout?: Duration } = {},
  ): Promise<T | undefined> {
    const deadline = Date.now() + toMs(options.timeout ?? 0, 'getEvent timeout');
    for (let delay = 5; ; delay = Math.min(250, delay * 2)) {
      const rows = await this.store.driver.query<{ value: T }>(
        'SELECT value FROM baton.events WHERE execution_id = $1 AND key = $2',
        [checkText(id, 'execution id', MAX_ID), checkText(key, 'event key', MAX_ID)],
      );
      if (rows.length > 0) return rows[0].value;
      if (Date.now() >= deadline) {
        await this.get(id);
        return undefined;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /**
   * An execution with its history: every durable operation of its current run with its status,
   * attempts, output and times; and, for a workflow that continued as new, its earlier runs
   * (newest first, the last 100).
   */
  async describe(id: string): Promise<Execution & { history: HistoryEntry[]; previousRuns: PastRun[] }> {
    const e = await this.get(id);
    const rows = await this.store.driver.query<Parameters<typeof toEntry>[0]>(
      'SELECT * FROM baton.history WHERE execution_id = $1 ORDER BY seq',
      [checkText(id, 'execution id', MAX_ID)],
    );
    const previousRuns = e.runNumber > 1 ? await pastRuns(this.store.driver, e.id) : [];
    return { ...e, history: rows.map(toEntry), previousRuns };
  }

  /** One execution, or E_NOT_FOUND. */
  async get(id: string): Promise<Execution> {
    const rows = await this.store.driver.query(
      `SELECT ${EXECUTION_COLUMNS} FROM baton.executions WHERE id = $1`,
      [checkText(id, 'execution id', MAX_ID)],
      'baton_get_execution',
    );
    if (rows.length === 0) throw notFound(id);
    return toExecution(rows[0]);
  }

  /** Executions, newest first. */
  async list(filter: ListFilter = {}): Promise<Execution[]> {
    return (await this.listRows(filter, EXECUTION_COLUMNS)).map(toExecution);
  }

  /**
   * As {@link list}, without each execution's payloads (input, output, progress, every attempt's
   * error) and keys: fewer bytes read and sent when many are listed. The last error stays.
   */
  async listSummaries(filter: ListFilter = {}): Promise<ExecutionSummary[]> {
    return (await this.listRows(filter, SUMMARY_COLUMNS)).map(toExecutionSummary);
  }

  private async listRows(filter: ListFilter, columns: string): Promise<Record<string, unknown>[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.dead && filter.status !== undefined)
      throw new BatonError(
        'E_INVALID_OPTION',
        'list: give either dead or status, not both (dead letters are the failed executions)',
      );
    if (filter.dead) add('status = ?::text::baton.execution_status', 'failed');
    if (filter.status !== undefined) {
      const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
      for (const s of statuses) checkOneOf(s, EXECUTION_STATUSES, 'list status');
      add('status = ANY(?::text[]::baton.execution_status[])', statuses);
    }
    // Text PostgreSQL cannot hold (a NUL) would fail the query itself: refuse it as bad input.
    if (filter.queue !== undefined) add('queue = ?', checkText(filter.queue, 'list queue', MAX_ID));
    if (filter.name !== undefined) add('name = ?', checkText(filter.name, 'list name', MAX_ID));
    if (filter.parentId !== undefined)
      add('parent_id = ?', checkText(filter.parentId, 'list parentId', MAX_ID));
    if (filter.kind !== undefined)
      add('kind = ?::text::baton.execution_kind', checkOneOf(filter.kind, EXECUTION_KINDS, 'list kind'));
    if (filter.before !== undefined) add('id < ?', checkText(filter.before, 'list before', MAX_ID));
    if (filter.search !== undefined) {
      // LIKE's wildcards in the text are matched as themselves.
      const pattern = `%${checkText(filter.search, 'list search', MAX_ID).replace(/[\\%_]/g, '\\$&')}%`;
      params.push(pattern);
      where.push(`(id ILIKE $${params.length} OR name ILIKE $${params.length})`);
    }
    if (filter.createdAfter !== undefined)
      add('created_at >= ?', checkDate(filter.createdAfter, 'list createdAfter'));
    if (filter.createdBefore !== undefined)
      add('created_at < ?', checkDate(filter.createdBefore, 'list createdBefore'));
    const limit = filter.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new BatonError(
        'E_INVALID_OPTION',
        `list limit must be an integer from 1 to 1000, got ${String(limit)}`,
      );
    params.push(limit);
    const sql = `SELECT ${columns} FROM baton.executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`;
    // Prepared once per connection for each combination of filters (a dashboard repeats a few).
    return this.store.driver.query(sql, params, statementName('baton_list', sql));
  }

  /**
   * Cancels an execution. A queued one is cancelled at once; a running one is asked to stop: its
   * handler's AbortSignal fires, and it ends as cancelled unless it completes first.
   */
  async cancel(id: string): Promise<{ status: 'cancelled' | 'cancelling' }> {
    // The execution and every descendant (activities, child workflows) are cancelled together.
    const { root } = await cancelTree(this.store.driver, checkText(id, 'execution id', MAX_ID));
    if (root === undefined) {
      const e = await this.get(id);
      throw new BatonError(
        'E_INVALID_STATE',
        `execution ${id} is already ${e.status}; only queued, waiting or running executions can be cancelled`,
      );
    }
    return { status: root === 'running' ? 'cancelling' : 'cancelled' };
  }

  /** Puts a failed or cancelled execution back in its queue with a fresh set of attempts. Its past errors are kept. */
  async retry(id: string): Promise<void> {
    const rows = await this.store.driver.query(
      `WITH r AS (
         UPDATE baton.executions
         SET ${RETRY_SET}
         WHERE id = $1 AND status IN ('failed', 'cancelled')
         RETURNING queue, run_at, concurrency_key
       )
       SELECT (${wakeupSql('r')}) AS n FROM r`,
      [checkText(id, 'execution id', MAX_ID)],
    );
    if (rows.length === 0) {
      const e = await this.get(id);
      throw new BatonError(
        'E_INVALID_STATE',
        `execution ${id} is ${e.status}; only failed or cancelled executions can be retried`,
      );
    }
  }

  /**
   * Retries dead letters in bulk: every failed execution that matches (a job name, a queue, a
   * kind), each back in its queue with a fresh set of attempts, its past errors kept. Works in
   * batches of 1000, so a large backlog never holds long locks. Returns how many were requeued.
   */
  async retryDead(filter: RetryFilter = {}): Promise<number> {
    if (filter.name !== undefined) checkText(filter.name, 'retry name', MAX_ID);
    if (filter.queue !== undefined) checkName(filter.queue, 'retry queue');
    if (filter.kind !== undefined) checkOneOf(filter.kind, EXECUTION_KINDS, 'retry kind');
    let total = 0;
    for (;;) {
      const [r] = await this.store.driver.query<{ n: number }>(
        `WITH picked AS (
           SELECT id FROM baton.executions
           WHERE status = 'failed' AND ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR queue = $2)
             AND ($3::text IS NULL OR kind = $3::text::baton.execution_kind)
           ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED
         ),
         r AS (
           UPDATE baton.executions e
           SET ${RETRY_SET}
           FROM picked WHERE e.id = picked.id
           RETURNING e.queue, e.run_at, e.concurrency_key
         )
         SELECT count(*)::int AS n, (SELECT n FROM (${wakeupSql('r')}) w) AS woken FROM r`,
        [filter.name ?? null, filter.queue ?? null, filter.kind ?? null],
      );
      total += r.n;
      if (r.n < 1000) return total;
    }
  }

  /**
   * Waits until the execution finishes and returns it (any terminal status). It polls with backoff
   * (1 ms doubling to 250 ms); when a worker in this process runs the execution, its outcome ends
   * the wait at once.
   */
  async waitFor(id: string, options: { timeout?: Duration } = {}): Promise<Execution> {
    const timeoutMs = toMs(options.timeout ?? '5m', 'waitFor timeout');
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(250, delay * 2)) {
      const e = await this.get(id);
      if (TERMINAL.includes(e.status)) return e;
      if (Date.now() > deadline)
        throw new BatonError('E_TIMEOUT', `execution ${id} is still ${e.status} after ${timeoutMs} ms`);
      // A worker of this process that records an outcome for it cuts the wait short.
      await this.store.outcomeOf(e.id, delay);
    }
  }

  /** Waits for the execution and returns its output; throws E_JOB_FAILED if it failed or was cancelled. */
  async result<O = Json>(id: string, options: { timeout?: Duration } = {}): Promise<O> {
    const e = await this.waitFor(id, options);
    if (e.status !== 'completed') {
      throw new BatonError(
        'E_JOB_FAILED',
        `execution ${id} (${e.name}) ${e.status}${e.error ? `: ${e.error.message}` : ''}`,
        { details: { execution: e.id } },
      );
    }
    return e.output as O;
  }

  /** Sets a queue's global limits. */
  async configureQueue(name: string, settings: QueueSettings): Promise<void> {
    checkName(name, 'queue name');
    const c = settings.concurrency;
    if (c !== null) checkInt(c, `queue '${name}': concurrency (or null for no limit)`, 1, INT_MAX);
    const r = settings.rateLimit;
    if (r !== undefined && r !== null) checkInt(r.limit, `queue '${name}': rateLimit.limit`, 1, INT_MAX);
    const intervalMs = r ? toMs(r.interval, `queue '${name}': rateLimit.interval`) : null;
    if (intervalMs !== null && (intervalMs < 1 || intervalMs > INT_MAX))
      throw new BatonError(
        'E_INVALID_OPTION',
        `queue '${name}': rateLimit.interval must be from 1 ms to ${INT_MAX} ms (about 24 days), got ${intervalMs} ms`,
      );
    await this.store.driver.query(
      `INSERT INTO baton.queues (name, concurrency_limit, rate_limit, rate_interval_ms)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET
         concurrency_limit = CASE WHEN $5 THEN excluded.concurrency_limit ELSE baton.queues.concurrency_limit END,
         rate_limit = CASE WHEN $6 THEN excluded.rate_limit ELSE baton.queues.rate_limit END,
         rate_interval_ms = CASE WHEN $6 THEN excluded.rate_interval_ms ELSE baton.queues.rate_interval_ms END,
         tokens = CASE WHEN $6 THEN NULL ELSE baton.queues.tokens END,
         updated_at = now()`,
      [name, c ?? null, r?.limit ?? null, intervalMs, c !== undefined, r !== undefined],
    );
  }

  /** Deletes finished executions older than the given ages. Returns how many were deleted. */
  async prune(options: { completed?: Duration; failed?: Duration } = {}): Promise<number> {
    return pruneFinished(this.store, {
      completedMs: toMs(options.completed ?? '7d', 'prune completed'),
      failedMs: toMs(options.failed ?? '30d', 'prune failed'),
    });
  }
}

/** Deletes finished rows past retention in batches, so a large backlog never holds long locks. */
export async function pruneFinished(
  store: Store,
  r: { completedMs: number; failedMs: number },
): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await store.driver.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM baton.executions WHERE id IN (
           SELECT id FROM baton.executions
           WHERE (status = 'completed' AND finished_at < now() - $1::float8 * interval '1 millisecond')
              OR (status IN ('failed', 'cancelled') AND finished_at < now() - $2::float8 * interval '1 millisecond')
           -- Ids are time-ordered: walking the primary key from the oldest finds prunable rows first,
           -- without an index on finished_at (which would cost every completion an index write).
           ORDER BY id LIMIT 1000)
         RETURNING id),
       -- What belongs to them goes in the same statement (no foreign keys cascade: migration 0006).
       history AS (DELETE FROM baton.history WHERE execution_id IN (SELECT id FROM gone)),
       signals AS (DELETE FROM baton.signals WHERE execution_id IN (SELECT id FROM gone)),
       runs AS (DELETE FROM baton.workflow_runs WHERE execution_id IN (SELECT id FROM gone)),
       events AS (DELETE FROM baton.events WHERE execution_id IN (SELECT id FROM gone)),
       -- their artifacts' names go; the blobs stay (another execution may hold the same content)
       artifacts AS (DELETE FROM baton.artifacts WHERE execution_id IN (SELECT id FROM gone)),
       contexts AS (DELETE FROM baton.run_contexts WHERE execution_id IN (SELECT id FROM gone)),
       seals AS (DELETE FROM baton.run_seals WHERE execution_id IN (SELECT id FROM gone))
       SELECT count(*)::int AS n FROM gone`,
      [r.completedMs, r.failedMs],
    );
    total += rows[0].n;
    if (rows[0].n < 1000) return total;
  }
}

function notFound(id: string): BatonError {
  return new BatonError('E_NOT_FOUND', `no execution with id '${id}'; list them with \`baton jobs list\``, {
    details: { id },
  });
}
