// The dispatcher: one transaction, under an advisory lock, that hands pending tasks to sessions in
// service order (priority, aged; see service-order.ts). Holding the lock, it sees every session's
// load as it is, so no session is given more than it may hold and no task is assigned twice, however
// many processes dispatch at once.
import type { Queryable } from '@baton/core';
import type { RoutingRules } from '../../config/kinds/routing-rules.js';
import type { SessionForRouting } from '../model.js';
import { PassRouting } from '../pass-routing.js';
import { environmentNeeds } from '../environment.js';
import { recordEvents, type EventRecord } from './events.js';
import { leasePort, releasePorts } from './ports.js';
import { TASK_COLUMNS, sessionStatus, toTaskForRouting, type SessionRow, type TaskRow } from './rows.js';
import { updateTask } from './task-sql.js';

// Any fixed number: the same in every process.
const DISPATCH_LOCK = 7_460_312_101;

/** The most pending tasks a pass reads; the dispatcher goes on while a pass stops there. */
export const DISPATCH_BATCH = 500;
/** The smallest page of pending tasks a pass reads. */
const MIN_PAGE = 32;

export interface Assignment {
  readonly task: string;
  readonly session: string;
  readonly attempt: number;
}

/** A place in the pending tasks' service order: a task's `service_key` and `id`. */
export type ServiceCursor = readonly [number, string];

/**
 * Why a pass stopped: it read its limit while sessions still had room (`limit`: a pass on from its
 * last task may place more), no session has room left (`no_room`), or it read every pending task
 * after its start (`end`; also when, with `onlyIfFree`, another dispatch held the lock).
 */
export type PassEnd = 'limit' | 'no_room' | 'end';

/** What one dispatcher pass did. */
export interface DispatchPass {
  readonly assignments: Assignment[];
  readonly stopped: PassEnd;
  /** The last task the pass routed, or null if none: a pass `after` it reads on from there. */
  readonly lastRouted: ServiceCursor | null;
}

/** A pass that routed nothing. */
export const routedNothing = (stopped: PassEnd): DispatchPass => ({
  assignments: [],
  stopped,
  lastRouted: null,
});

/** Whether any task waits to be served (one indexed read, outside any transaction). */
export async function anyPending(db: Queryable): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM baton.architect_tasks WHERE status = 'pending' LIMIT 1`,
    [],
    'architect_any_pending',
  );
  return rows.length > 0;
}

/**
 * Every session with the number of tasks it holds, as the router sees them, in name order: one
 * statement, with only the columns routing reads (parsing 1,000 rows is most of its cost).
 */
export async function loadSessions(db: Queryable): Promise<SessionForRouting[]> {
  const rows = await db.query<RoutingSessionRow>(
    `SELECT s.name, s.provider, s.capacity, s.state, s.working_dir, s.git_branch, s.last_heartbeat,
            s.last_assigned_at, s.assigned_total, coalesce(h.n, 0) AS held
     FROM baton.architect_sessions s
     LEFT JOIN (SELECT assigned_session, count(*)::int AS n FROM baton.architect_tasks
                WHERE status IN ('assigned', 'running') GROUP BY assigned_session) h ON h.assigned_session = s.name
     ORDER BY s.name`,
    [],
    'architect_routing_sessions',
  );
  return rows.map((r) => ({
    name: r.name,
    provider: r.provider,
    status: sessionStatus(r.state, r.held),
    capacity: r.capacity,
    held_tasks: r.held,
    working_dir: r.working_dir ?? undefined,
    git_branch: r.git_branch ?? undefined,
    last_heartbeat: r.last_heartbeat,
    last_assigned_at: r.last_assigned_at,
    assigned_total: r.assigned_total,
  }));
}

type RoutingSessionRow = Pick<
  SessionRow,
  | 'name'
  | 'provider'
  | 'capacity'
  | 'state'
  | 'working_dir'
  | 'git_branch'
  | 'last_heartbeat'
  | 'last_assigned_at'
  | 'assigned_total'
> & { held: number };

/**
 * Routes up to `limit` pending tasks, best first (after `after`, when given), and assigns those the
 * router places. A task the router queues keeps waiting (its reason is stored, and a `throttled`
 * event records each new reason); one it can no longer route at all (its target session was
 * removed) fails. Returns the assignments made, why the pass stopped and the last task it routed;
 * the caller wakes the sessions and workflows after the commit. With `onlyIfFree` it returns at
 * once when another dispatch holds the lock.
 */
export async function dispatch(
  tx: Queryable,
  rules: RoutingRules,
  now: number,
  options: { limit?: number; onlyIfFree?: boolean; after?: ServiceCursor } = {},
): Promise<DispatchPass> {
  if (options.onlyIfFree) {
    // a session asking for work: if a dispatch is running, it serves this session too
    const [r] = await tx.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS ok',
      [DISPATCH_LOCK],
      'architect_dispatch_try',
    );
    if (!r!.ok) return routedNothing('end');
  } else await tx.query('SELECT pg_advisory_xact_lock($1)', [DISPATCH_LOCK], 'architect_dispatch_lock');
  const limit = options.limit ?? DISPATCH_BATCH;
  const routing = new PassRouting(rules, await loadSessions(tx), now);
  if (!routing.open) {
    await noteAllWaiting(tx, noRoom(routing.registered), now);
    return routedNothing('no_room');
  }
  const made: Made[] = [];
  const events: EventRecord[] = [];
  // Pending tasks in service order, a page at a time: a page about the size of the room left, so
  // that a pass reads (and locks) about as many tasks as it can place, up to `limit` in all.
  let read = 0;
  let after: ServiceCursor = options.after ?? [-Infinity, ''];
  let lastRouted: ServiceCursor | null = null;
  while (routing.open && read < limit) {
    const size = Math.min(limit - read, Math.max(MIN_PAGE, 2 * routing.freeSlots));
    const page = await tx.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks
       WHERE status = 'pending' AND (service_key, id) > ($2, $3)
       ORDER BY service_key, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [size, ...after],
      'architect_pending',
    );
    read += page.length;
    for (const row of page) {
      if (!routing.open) break;
      await serve(tx, rules, routing, row, now, made, events);
      lastRouted = [row.service_key, row.id];
    }
    if (page.length < size) break;
    after = [page.at(-1)!.service_key, page.at(-1)!.id];
  }
  const assigned = made.map((m) => ({ task: m.row.id, session: m.session, attempt: m.row.attempt + 1 }));
  if (assigned.length > 0) {
    await tx.query(
      `UPDATE baton.architect_tasks t SET status = 'assigned', assigned_session = a.session, attempt = t.attempt + 1,
         assigned_at = $2, deadline_at = $2 + t.timeout_ms, port = a.port, queued_reason = NULL
       FROM unnest($1::text[], $3::text[], $4::int[]) AS a(id, session, port) WHERE t.id = a.id`,
      [made.map((m) => m.row.id), now, made.map((m) => m.session), made.map((m) => m.port)],
      'architect_assign',
    );
    await tx.query(
      `UPDATE baton.architect_sessions s SET last_assigned_at = $2, assigned_total = s.assigned_total + n.count
       FROM (SELECT name, count(*)::int AS count FROM unnest($1::text[]) AS name GROUP BY name) n
       WHERE s.name = n.name`,
      [assigned.map((a) => a.session), now],
      'architect_session_assigned',
    );
  }
  await recordEvents(tx, now, events);
  const stopped: PassEnd = !routing.open ? 'no_room' : read >= limit ? 'limit' : 'end';
  return { assignments: assigned, stopped, lastRouted };
}

/** An assignment a pass made. */
interface Made {
  readonly row: TaskRow;
  readonly session: string;
  readonly port: number | null;
}

/** Routes one pending task: assigns it (in `made`), or stores why it waits, or fails it. */
async function serve(
  tx: Queryable,
  rules: RoutingRules,
  routing: PassRouting,
  row: TaskRow,
  now: number,
  made: Made[],
  events: EventRecord[],
): Promise<void> {
  const decision = routing.route(toTaskForRouting(row));
  if (decision.kind === 'queue') {
    await noteWaiting(tx, row, decision.explanation.summary, events);
    return;
  }
  if (decision.kind === 'reject') {
    const why = `can no longer be routed: ${decision.message}`;
    await updateTask(tx, row.id, { status: 'failed', ended_at: now, error: why, queued_reason: null });
    await releasePorts(tx, [row.id]);
    events.push({ task: row.id, event: 'failed', attempt: row.attempt, reason: why });
    return;
  }
  const needs = environmentNeeds(rules, row.type);
  let port = row.port;
  if (needs.portRange && port === null) {
    port = await leasePort(tx, row.id, needs.portRange, now);
    if (port === null) {
      const [lo, hi] = needs.portRange;
      await noteWaiting(
        tx,
        row,
        `port range ${lo}-${hi} exhausted: every port is leased to another task`,
        events,
      );
      return;
    }
  }
  made.push({ row, session: decision.session, port });
  events.push({
    task: row.id,
    event: 'assigned',
    attempt: row.attempt + 1,
    session: decision.session,
    reason: `${decision.explanation.summary} (${decision.rule}; ${decision.explanation.strategy})`,
  });
  routing.assigned(decision.session);
}

/** Stores why a task waits; a new reason is recorded as a `throttled` event. */
async function noteWaiting(
  tx: Queryable,
  row: TaskRow,
  reason: string,
  events: EventRecord[],
): Promise<void> {
  if (row.queued_reason === reason) return;
  await updateTask(tx, row.id, { queued_reason: reason });
  events.push({ task: row.id, event: 'throttled', attempt: row.attempt, reason });
}

function noRoom(registered: number): string {
  return registered === 0
    ? 'no session is registered; start one (`baton session run`) or register one through the library'
    : `no session can take a task now: none of the ${registered} registered session${registered === 1 ? ' is' : 's is'} idle, or busy with room (\`baton sessions list\`)`;
}

/** Every pending task waits for the same reason (no session has room): one statement, not a route per task. */
async function noteAllWaiting(tx: Queryable, reason: string, now: number): Promise<void> {
  const changed = await tx.query<{ id: string; attempt: number }>(
    `UPDATE baton.architect_tasks SET queued_reason = $1
     WHERE status = 'pending' AND queued_reason IS DISTINCT FROM $1 RETURNING id, attempt`,
    [reason],
    'architect_all_waiting',
  );
  await recordEvents(
    tx,
    now,
    changed.map((r) => ({ task: r.id, event: 'throttled', attempt: r.attempt, reason })),
  );
}
