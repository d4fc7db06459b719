// The statements behind workflow replay. Every write is fenced on the run's lease (owner,
// attempt, still running): a worker that lost the workflow cannot add to its history.
import type { Driver, Queryable } from '../driver/types.js';
import { notifyRowSql, slotFreedSql, wakeupSql } from '../wakeup.js';
import { insertSql, recordsetJson, type NewExecution } from '../sql/enqueue.js';

/** Who may write: the run that holds the execution's lease. */
export interface Lease {
  executionId: string;
  workerId: string;
  attempt: number;
}

export type HistoryKind = 'step' | 'sleep' | 'signal' | 'patch' | 'event' | 'activity' | 'child';
export type HistoryStatus = 'waiting' | 'completed' | 'failed';

/** One recorded durable operation. */
export interface HistoryEntry {
  seq: number;
  kind: HistoryKind;
  name: string;
  status: HistoryStatus;
  attempts: number;
  /** What the operation was given: an activity's or child's input, a step's declared input; null if none. */
  input: unknown;
  output: unknown;
  error: { name?: string; message: string; code?: string } | null;
  startedAt: Date;
  finishedAt: Date | null;
  /**
   * The order in which the run handed this operation's result to the code (0, 1, 2 …), which a
   * replay keeps; null while it waits, and for history written before Baton recorded it.
   */
  settled: number | null;
}

interface HistoryRow {
  seq: number;
  kind: HistoryKind;
  name: string;
  status: HistoryStatus;
  attempts: number;
  input: unknown;
  output: unknown;
  error: HistoryEntry['error'];
  started_at: string | Date;
  finished_at: string | Date | null;
  settled: number | null;
}

export function toEntry(r: HistoryRow): HistoryEntry {
  return {
    seq: r.seq,
    kind: r.kind,
    name: r.name,
    status: r.status,
    attempts: r.attempts,
    input: r.input ?? null,
    output: r.output ?? null,
    error: r.error ?? null,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
    settled: r.settled ?? null,
  };
}

export const HISTORY_COLUMNS =
  'execution_id, seq, kind, name, status, attempts, input, output, error, started_at, finished_at, settled';

const LEASE = `SELECT 1 FROM baton.executions WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'running'`;

// The leases `workerId` holds among the runs of a batch, as the CTE `owned` (id, attempts), from
// params $2–$3 of leaseParams; a batch row is the run's own while its (execution_id, attempt) is
// there. The leases are read by primary key (= ANY), never joined with the unpacked batch, whose
// row estimate would lead the planner to scan the whole table.
const OWNED_LEASES = `owned AS (
       SELECT e.id, e.attempts FROM baton.executions e
       WHERE e.id = ANY($2::text[]) AND e.lease_owner = $3 AND e.status = 'running'
     )`;

const leaseParams = (workerId: string, items: readonly { lease: Lease }[]) => [
  items.map(({ lease }) => lease.executionId),
  workerId,
];

/** What a run replays from, as SQL over the execution row aliased `alias`: one JSON object. */
export const replayStateSql = (alias: string) =>
  `json_build_object('signal_count', ${alias}.signal_count, 'created_at', ${alias}.created_at,
     'history', coalesce((SELECT json_agg(h ORDER BY h.seq) FROM baton.history h WHERE h.execution_id = ${alias}.id), '[]'))`;

export interface ReplayStateRow {
  signal_count: number;
  created_at: string | Date;
  history: HistoryRow[];
}

export interface ReplayState {
  /** By position. Operations run concurrently (Promise.all) are recorded as they end, so a crash
   * can leave a position unrecorded below a recorded one: that position is a hole. */
  history: HistoryEntry[];
  /** How many signals had been sent when the run started. */
  signalCount: number;
  createdAt: Date;
}

export function toReplayState(row: ReplayStateRow): ReplayState {
  const history: HistoryEntry[] = [];
  for (const h of row.history) history[h.seq] = toEntry(h);
  return { history, signalCount: row.signal_count, createdAt: new Date(row.created_at) };
}

/** A history entry to write; `input`, `output` and `error` are JSON text. */
export interface NewEntry {
  seq: number;
  kind: HistoryKind;
  name: string;
  status: HistoryStatus;
  attempts: number;
  /** Absent for operations without an input. */
  input?: string | null;
  output: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  /** The ordinal under which the run handed the result to the code (see SettleOrder); absent while waiting. */
  settled?: number | null;
}

// Appends the entry of params $1–$14 (entryParams) if the lease of $1–$3 is held.
const INSERT_ENTRY = `entry AS (
       INSERT INTO baton.history (${HISTORY_COLUMNS})
       SELECT $1, $4, $5, $6, $7, $8, $13::jsonb, $9::jsonb, $10::jsonb, $11, $12, $14 WHERE EXISTS (SELECT 1 FROM lease)
       ON CONFLICT (execution_id, seq) DO NOTHING
       RETURNING 1
     )`;

const entryParams = (lease: Lease, e: NewEntry) => [
  lease.executionId,
  lease.workerId,
  lease.attempt,
  e.seq,
  e.kind,
  e.name,
  e.status,
  e.attempts,
  e.output,
  e.error,
  e.startedAt,
  e.finishedAt,
  e.input ?? null,
  e.settled ?? null,
];

const entryResult = (r: { owned: boolean; inserted: boolean }): EntryResult =>
  !r.owned ? 'lost' : r.inserted ? 'recorded' : 'conflict';

/**
 * Appends a history entry at its position. `conflict` means another run recorded that position
 * first (its record stands); `lost` means this run no longer holds the lease and must stop.
 */
export async function recordEntry(db: Queryable, lease: Lease, e: NewEntry): Promise<EntryResult> {
  const [r] = await db.query<{ owned: boolean; inserted: boolean }>(
    `WITH lease AS (${LEASE}), ${INSERT_ENTRY}
     SELECT EXISTS (SELECT 1 FROM lease) AS owned, EXISTS (SELECT 1 FROM entry) AS inserted`,
    entryParams(lease, e),
    'baton_record_history',
  );
  return entryResult(r);
}

/**
 * Appends the entry that records a child and starts the child, in one statement (one round trip,
 * one commit): the entry only while the lease is held, the child only if the entry went in.
 * `created` is false when the child's (name, idempotency key) exists already, so another
 * execution stands for it; an id taken by an execution of another name fails with 23505, writing
 * nothing.
 */
export async function startChild(
  db: Queryable,
  lease: Lease,
  child: NewExecution,
  e: NewEntry,
): Promise<{ result: EntryResult; created: boolean }> {
  const [r] = await db.query<{ owned: boolean; inserted: boolean; created: boolean }>(
    `WITH lease AS (${LEASE}), ${INSERT_ENTRY}, ${insertSql('$15', 'WHERE EXISTS (SELECT 1 FROM entry)')}
     SELECT EXISTS (SELECT 1 FROM lease) AS owned, EXISTS (SELECT 1 FROM entry) AS inserted,
       EXISTS (SELECT 1 FROM ins) AS created, (SELECT n FROM woken) AS woken`,
    [...entryParams(lease, e), recordsetJson([child])],
    'baton_start_child',
  );
  return { result: entryResult(r), created: r.created };
}

/** Reads one entry (after a conflict). */
export async function readEntry(
  db: Queryable,
  executionId: string,
  seq: number,
): Promise<HistoryEntry | undefined> {
  const rows = await db.query<HistoryRow>(
    'SELECT * FROM baton.history WHERE execution_id = $1 AND seq = $2',
    [executionId, seq],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/**
 * Ends a waiting entry (a sleep that is over, a signal wait that timed out, a child that ended),
 * as failed when `failure` is given, handed to the code as result `settled`. False if the lease is lost.
 */
export async function endWait(
  db: Queryable,
  lease: Lease,
  seq: number,
  output: string,
  at: Date,
  settled: number,
  failure: string | null = null,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE baton.history
     SET status = CASE WHEN $7::jsonb IS NULL THEN 'completed' ELSE 'failed' END, output = $5::jsonb,
         error = $7::jsonb, finished_at = $6, settled = $8
     -- Only a wait still open can end: a run that lost its lease must not overwrite what the run
     -- that took over recorded here (a signal it received, say).
     WHERE execution_id = $1 AND seq = $4 AND status = 'waiting' AND EXISTS (${LEASE})
     RETURNING 1`,
    [lease.executionId, lease.workerId, lease.attempt, seq, output, at, failure, settled],
    'baton_end_wait',
  );
  return rows.length === 1;
}

/** A waiting entry to end (see endWait): `output` and `failure` are JSON text. */
export interface WaitEnd {
  seq: number;
  output: string;
  at: Date;
  settled: number;
  failure: string | null;
}

/**
 * Ends waiting entries of many runs of one worker in one statement, each fenced on its own run's
 * lease (see endWait): a resumed fan-out hands over the results of all the children that ended
 * while it slept. Results are in the order of `items`; false where the lease is lost.
 */
export async function endWaits(
  db: Queryable,
  workerId: string,
  items: readonly { lease: Lease; end: WaitEnd }[],
): Promise<boolean[]> {
  if (items.length === 1) {
    const { lease, end: w } = items[0];
    return [await endWait(db, lease, w.seq, w.output, w.at, w.settled, w.failure)];
  }
  const payload = `[${items
    .map(
      ({ lease, end: w }, i) =>
        `{"i":${i},"attempt":${lease.attempt},"execution_id":${JSON.stringify(lease.executionId)},"seq":${w.seq},"output":${w.output},` +
        `"error":${w.failure ?? 'null'},"finished_at":"${w.at.toISOString()}","settled":${w.settled}}`,
    )
    .join(',')}]`;
  const rows = await db.query<{ i: number; ended: boolean }>(
    `WITH req AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS r(i int, attempt int, execution_id text, seq int, output jsonb, error jsonb, finished_at timestamptz, settled int)
     ),
     ${OWNED_LEASES},
     ended AS (
       UPDATE baton.history h
       SET status = CASE WHEN r.error IS NULL THEN 'completed' ELSE 'failed' END, output = r.output,
           error = r.error, finished_at = r.finished_at, settled = r.settled
       FROM req r
       WHERE h.execution_id = r.execution_id AND h.seq = r.seq AND h.status = 'waiting'
         AND (r.execution_id, r.attempt) IN (SELECT id, attempts FROM owned)
       RETURNING r.i
     )
     -- by i: of two rows for one entry, only the one that ended it gets true
     SELECT r.i, EXISTS (SELECT 1 FROM ended WHERE ended.i = r.i) AS ended
     FROM req r`,
    [payload, ...leaseParams(workerId, items)],
    'baton_end_waits',
  );
  const out: boolean[] = new Array(items.length);
  for (const r of rows) out[r.i] = r.ended;
  return out;
}

/** What a parent needs to know about a child execution. */
export interface ChildState {
  status: string;
  output: unknown;
  error: { message: string; code?: string } | null;
}

/** The states of child executions, by id, in one round trip; an id with no execution is absent. */
export async function childStates(
  db: Queryable,
  childIds: readonly string[],
): Promise<Map<string, ChildState>> {
  const rows = await db.query<ChildState & { id: string }>(
    'SELECT id, status, output, error FROM baton.executions WHERE id = ANY($1::text[])',
    [childIds],
    'baton_child_states',
  );
  return new Map(rows.map(({ id, ...state }) => [id, state]));
}

/**
 * Takes the oldest pending signal of `name` for the wait at `seq`, recording it in history in the
 * same transaction. Returns its payload, `undefined` if none is pending, or `lost`.
 */
export async function consumeSignal(
  driver: Driver,
  lease: Lease,
  seq: number,
  name: string,
  at: Date,
  settled: number,
): Promise<{ payload: unknown } | undefined | 'lost'> {
  return driver.transaction(async (tx) => {
    // The lease is checked under a row lock held to the commit: recovery, which would hand the
    // workflow to another worker, waits for this transaction, so a run that lost its lease can
    // never take a signal the run that replaced it then misses.
    const owned = await tx.query(`${LEASE} FOR SHARE`, [lease.executionId, lease.workerId, lease.attempt]);
    if (owned.length === 0) return 'lost';
    const [sig] = await tx.query<{ id: string; payload: unknown }>(
      `UPDATE baton.signals SET consumed_seq = $3
       WHERE id = (SELECT id FROM baton.signals WHERE execution_id = $1 AND name = $2 AND consumed_seq IS NULL
                   ORDER BY id LIMIT 1 FOR UPDATE)
       RETURNING id, payload`,
      [lease.executionId, name, seq],
    );
    if (!sig) return undefined;
    const recorded = await tx.query(
      `INSERT INTO baton.history (execution_id, seq, kind, name, status, attempts, output, started_at, finished_at, settled)
       VALUES ($1, $2, 'signal', $3, 'completed', 1, jsonb_build_object('payload', $4::jsonb), $5, $5, $6)
       ON CONFLICT (execution_id, seq) DO UPDATE SET status = 'completed', output = excluded.output,
         finished_at = excluded.finished_at, settled = excluded.settled
       WHERE baton.history.status = 'waiting'
       RETURNING 1`,
      [lease.executionId, seq, name, JSON.stringify(sig.payload ?? null), at, settled],
    );
    // Something else already ended this wait: roll back rather than consume a signal nobody records.
    if (recorded.length === 0)
      throw new Error(`history position ${seq} of ${lease.executionId} is no longer waiting`);
    return { payload: sig.payload ?? null };
  });
}

/**
 * Suspends a run: the workflow holds no memory anywhere until it is due (`wakeAt`) or a signal
 * arrives. If a signal arrived since the run started (`signal_count` moved), it is made claimable
 * at once. A waiting workflow holds no slot of a queue's concurrency limit: `freesSlotOf` names
 * the queue whose slot it gives back, whose workers are woken. Returns false if the lease was lost.
 */
export async function suspend(
  db: Queryable,
  lease: Lease,
  knownSignals: number,
  wakeAt: Date | null,
  freesSlotOf: string | null = null,
): Promise<boolean> {
  const rows = await db.query(
    `WITH s AS (
       UPDATE baton.executions e
       SET status = 'waiting', lease_owner = NULL, attempts = attempts - 1, holds_slot = false,
           claimable = signal_count > $4 OR $5::timestamptz IS NOT NULL,
           run_at = CASE WHEN signal_count > $4 THEN now() ELSE coalesce($5::timestamptz, run_at) END
       WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'running'
       -- a signal or a child's end that came while it ran: due now, so its workers are woken
       RETURNING CASE WHEN e.signal_count > $4 THEN ${notifyRowSql('e')} END
     )${freesSlotOf ? `, freed AS (${slotFreedSql('ARRAY[$6]')})` : ''}
     SELECT 1${freesSlotOf ? ', (SELECT n FROM freed)' : ''} FROM s`,
    [
      lease.executionId,
      lease.workerId,
      lease.attempt,
      knownSignals,
      wakeAt,
      ...(freesSlotOf ? [freesSlotOf] : []),
    ],
    freesSlotOf ? 'baton_suspend_freeing_slot' : 'baton_suspend',
  );
  return rows.length === 1;
}

/** Records ctx.setEvent at its position and publishes the value, in one transaction. */
export async function recordEvent(
  driver: Driver,
  lease: Lease,
  seq: number,
  key: string,
  valueJson: string,
  at: Date,
  settled: number,
): Promise<'recorded' | 'conflict' | 'lost'> {
  return driver.transaction(async (tx) => {
    const result = await recordEntry(tx, lease, {
      settled,
      seq,
      kind: 'event',
      name: key,
      status: 'completed',
      attempts: 1,
      output: valueJson,
      error: null,
      startedAt: at,
      finishedAt: at,
    });
    if (result === 'recorded') {
      await tx.query(
        `INSERT INTO baton.events (execution_id, key, value, updated_at) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (execution_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [lease.executionId, key, valueJson, at],
      );
    }
    return result;
  });
}

/** How an entry write ended: `conflict`, another run recorded that position first (its record stands); `lost`, the run no longer holds its lease. */
export type EntryResult = 'recorded' | 'conflict' | 'lost';

/**
 * An entry as a JSON object with the columns of baton.history (`extra` is spliced in first).
 * Outputs and errors are JSON text already: spliced in, not parsed and serialised again.
 */
export function entryJson(executionId: string, e: NewEntry, extra = ''): string {
  return (
    `{${extra}"execution_id":${JSON.stringify(executionId)},"seq":${e.seq},"kind":"${e.kind}",` +
    `"name":${JSON.stringify(e.name)},"status":"${e.status}","attempts":${e.attempts},` +
    `"input":${e.input ?? 'null'},"output":${e.output ?? 'null'},"error":${e.error ?? 'null'},"started_at":"${e.startedAt.toISOString()}",` +
    `"finished_at":${e.finishedAt ? `"${e.finishedAt.toISOString()}"` : 'null'},"settled":${e.settled ?? 'null'}}`
  );
}

/** The columns of baton.history, as jsonb_to_recordset reads them from {@link entryJson} objects. */
export const ENTRY_RECORD = `execution_id text, seq int, kind text, name text, status text, attempts int, input jsonb,
  output jsonb, error jsonb, started_at timestamptz, finished_at timestamptz, settled int`;

/**
 * Appends entries of many runs of one worker in one statement, each fenced on its own run's lease.
 * Results are in the order of `items`. One entry goes through recordEntry, whose plain statement
 * is quicker than unpacking a batch.
 */
export async function recordEntries(
  db: Queryable,
  workerId: string,
  items: readonly { lease: Lease; entry: NewEntry }[],
): Promise<EntryResult[]> {
  if (items.length === 1) return [await recordEntry(db, items[0].lease, items[0].entry)];
  const payload = `[${items.map(({ lease, entry }, i) => entryJson(lease.executionId, entry, `"i":${i},"attempt":${lease.attempt},`)).join(',')}]`;
  const rows = await db.query<{ i: number; owned: boolean; inserted: boolean }>(
    `WITH req AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(i int, attempt int, ${ENTRY_RECORD})
     ),
     ${OWNED_LEASES},
     ins AS (
       INSERT INTO baton.history (${HISTORY_COLUMNS})
       SELECT ${HISTORY_COLUMNS} FROM req WHERE (execution_id, attempt) IN (SELECT id, attempts FROM owned)
       ON CONFLICT (execution_id, seq) DO NOTHING
       RETURNING execution_id, seq
     )
     SELECT r.i, (r.execution_id, r.attempt) IN (SELECT id, attempts FROM owned) AS owned,
            EXISTS (SELECT 1 FROM ins WHERE ins.execution_id = r.execution_id AND ins.seq = r.seq) AS inserted
     FROM req r`,
    [payload, ...leaseParams(workerId, items)],
    'baton_record_histories',
  );
  const out: EntryResult[] = new Array(items.length);
  for (const r of rows) out[r.i] = !r.owned ? 'lost' : r.inserted ? 'recorded' : 'conflict';
  return out;
}

/** How many earlier runs of a workflow id keep their line in baton.workflow_runs. */
export const RUNS_KEPT = 100;

/**
 * ctx.continueAsNew: ends the run holding `lease` and queues the next run of the same workflow id
 * with `inputJson`, in one statement. The run's history and the signals it took are deleted (a
 * line about the run stays in baton.workflow_runs; a taken signal's idempotency key stays);
 * signals not yet taken wait for the next run.
 * Returns false if the lease was lost.
 */
export async function continueRun(
  db: Queryable,
  lease: Lease,
  inputJson: string,
  steps: number,
  freesSlotOf: string | null,
): Promise<boolean> {
  const rows = await db.query(
    `WITH cur AS (
       SELECT id, run, input, created_at FROM baton.executions
       WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'running'
       FOR UPDATE
     ),
     archived AS (
       INSERT INTO baton.workflow_runs (execution_id, run, input, started_at, finished_at, steps)
       SELECT c.id, c.run, c.input,
              coalesce((SELECT r.finished_at FROM baton.workflow_runs r WHERE r.execution_id = c.id AND r.run = c.run - 1),
                       c.created_at),
              now(), $5
       FROM cur c
       RETURNING run
     ),
     wiped AS (DELETE FROM baton.history WHERE execution_id = $1 AND EXISTS (SELECT 1 FROM archived)),
     taken AS (
       DELETE FROM baton.signals WHERE execution_id = $1 AND consumed_seq IS NOT NULL AND idempotency_key IS NULL
         AND EXISTS (SELECT 1 FROM archived)
     ),
     -- A taken signal with an idempotency key stays as a tombstone (no payload, position -1), so that
     -- a resend of it after the continue is still recognised and stored nothing.
     kept AS (
       UPDATE baton.signals SET payload = 'null', consumed_seq = -1
       WHERE execution_id = $1 AND consumed_seq >= 0 AND idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM archived)
     ),
     forgotten AS (
       DELETE FROM baton.workflow_runs WHERE execution_id = $1 AND run <= (SELECT run FROM archived) - ${RUNS_KEPT}
     ),
     next AS (
       UPDATE baton.executions
       SET run = run + 1, input = $4::jsonb, status = 'queued', claimable = true, attempts = 0, lease_owner = NULL,
           run_at = now(), started_at = NULL, holds_slot = false
       WHERE id = $1 AND EXISTS (SELECT 1 FROM archived)
       RETURNING id, queue, run_at, concurrency_key
     )${freesSlotOf ? `, freed AS (${slotFreedSql('ARRAY[$6]')})` : ''}
     SELECT (${wakeupSql('next')}) AS woken${freesSlotOf ? ', (SELECT n FROM freed) AS freed' : ''} FROM next`,
    [
      lease.executionId,
      lease.workerId,
      lease.attempt,
      inputJson,
      steps,
      ...(freesSlotOf ? [freesSlotOf] : []),
    ],
  );
  return rows.length === 1;
}

/** The earlier runs of a workflow id, newest first (describe()). */
export interface PastRun {
  run: number;
  input: unknown;
  startedAt: Date;
  finishedAt: Date;
  /** Durable operations the run had gone through when it continued as new. */
  steps: number;
}

export async function pastRuns(db: Queryable, executionId: string): Promise<PastRun[]> {
  const rows = await db.query<{
    run: number;
    input: unknown;
    started_at: Date;
    finished_at: Date;
    steps: number;
  }>(
    'SELECT run, input, started_at, finished_at, steps FROM baton.workflow_runs WHERE execution_id = $1 ORDER BY run DESC',
    [executionId],
  );
  return rows.map((r) => ({
    run: r.run,
    input: r.input ?? null,
    startedAt: new Date(r.started_at),
    finishedAt: new Date(r.finished_at),
    steps: r.steps,
  }));
}
