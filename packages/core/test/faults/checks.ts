// What must hold once the faults stop and the system has settled. Every check reads the engine's
// tables and the suite's own (load.ts); a violation is a sentence naming what broke and where.
import type { Queryable } from '../../src/index.js';
import { LIMITED_CONCURRENCY, type OrderOutput } from './load.js';
import type { Traffic } from './traffic.js';

export interface CheckReport {
  jobs: number;
  workflows: number;
  /** Acknowledged work or signals that the database does not have, or that a finished run dropped. */
  lost: number;
  /** An execution or history position recorded as completed more than once. */
  duplicateCompletions: number;
  /** Executions still not in a terminal state. */
  stuck: number;
  /** Side effects executed again after a crash (at-least-once steps), by kind of work. */
  reexecutions: Record<string, number>;
  cronFires: number;
  violations: string[];
}

const TERMINAL = ['completed', 'failed', 'cancelled'];

interface Exec {
  id: string;
  kind: string;
  name: string;
  status: string;
  attempts: number;
  output: unknown;
  error: { message?: string } | null;
  lease_owner: string | null;
  parent_id: string | null;
  idempotency_key: string | null;
}

export async function checkAll(db: Queryable, traffic: Traffic): Promise<CheckReport> {
  const violations: string[] = [];
  const fail = (what: string) => violations.push(what);
  let lost = 0;

  const execs = await db.query<Exec>(
    `SELECT id, kind, name, status, attempts, output, error, lease_owner, parent_id, idempotency_key FROM baton.executions`,
  );
  const byId = new Map(execs.map((e) => [e.id, e]));

  // Nothing stuck.
  const stuck = execs.filter((e) => !TERMINAL.includes(e.status));
  for (const e of stuck.slice(0, 10)) fail(`stuck: ${e.kind} ${e.name} ${e.id} is still ${e.status}`);

  // Nothing acknowledged is missing, and everything ended as it should.
  const expectStatus = (id: string, allowed: string[], what: string) => {
    const e = byId.get(id);
    if (!e) {
      lost++;
      fail(`lost: ${what} ${id} was acknowledged but is not in the database`);
    } else if (TERMINAL.includes(e.status) && !allowed.includes(e.status)) {
      fail(`${what} ${id} ended ${e.status}, expected ${allowed.join(' or ')}: ${e.error?.message ?? ''}`);
    }
  };
  for (const [id, j] of traffic.jobs) {
    expectStatus(id, j.cancelRequested ? [j.expect, 'cancelled'] : [j.expect], 'job');
  }
  for (const [id, o] of traffic.orders)
    expectStatus(id, o.cancelRequested ? ['completed', 'cancelled'] : ['completed'], 'workflow');
  for (const id of traffic.blockers) expectStatus(id, ['completed'], 'workflow');
  // Activities and children end with their parent's outcome, unless the parent was cancelled.
  for (const e of execs) {
    if (!e.parent_id || !TERMINAL.includes(e.status) || e.status === 'completed') continue;
    const parent = byId.get(e.parent_id);
    if (parent?.status !== 'cancelled')
      fail(`${e.kind} ${e.name} ${e.id} ended ${e.status}: ${e.error?.message ?? ''}`);
  }

  // No completion recorded twice, no terminal state left (from the audit triggers).
  const audit = await db.query<{
    execution_id: string;
    seq: number | null;
    completions: number;
    left: number;
  }>(
    `SELECT execution_id, seq, count(*) FILTER (WHERE new_status = 'completed')::int AS completions,
            count(*) FILTER (WHERE old_status IN ('completed', 'failed', 'cancelled'))::int AS left
     FROM fault_audit GROUP BY execution_id, seq
     HAVING count(*) FILTER (WHERE new_status = 'completed') > 1
         OR count(*) FILTER (WHERE old_status IN ('completed', 'failed', 'cancelled')) > 0`,
  );
  let duplicateCompletions = 0;
  for (const a of audit) {
    const where = a.seq === null ? `execution ${a.execution_id}` : `history ${a.execution_id} #${a.seq}`;
    if (a.completions > 1) {
      duplicateCompletions++;
      fail(`duplicate completion: ${where} was recorded completed ${a.completions} times`);
    }
    if (a.left > 0) fail(`${where} left a terminal state ${a.left} times`);
  }

  // Every recorded result is the side effect that was committed (the idempotent one), for jobs,
  // activities, cron ticks and workflow steps alike.
  const mismatched = await db.query<{
    what: string;
    id: string;
    recorded: string | null;
    committed: string | null;
  }>(
    `SELECT 'job ' || e.name AS what, e.id, e.output ->> 'token' AS recorded, i.token AS committed
     FROM baton.executions e LEFT JOIN fault_idempotent i ON i.key = CASE e.name
       WHEN 'work' THEN 'job:' WHEN 'charge-card' THEN 'activity:' ELSE 'tick:' END || e.id
     WHERE e.status = 'completed' AND e.name IN ('work', 'charge-card', 'tick')
       AND (i.token IS NULL OR i.token IS DISTINCT FROM e.output ->> 'token')
     UNION ALL
     SELECT 'step ' || h.name, h.execution_id || ' #' || h.seq, h.output ->> 'token', i.token
     FROM baton.history h LEFT JOIN fault_idempotent i ON i.key = h.execution_id || ':' || h.seq
     WHERE h.kind = 'step' AND h.status = 'completed'
       AND (i.token IS NULL OR i.token IS DISTINCT FROM h.output ->> 'token')`,
  );
  for (const m of mismatched.slice(0, 10))
    fail(`${m.what} ${m.id} recorded token ${m.recorded} but the committed side effect has ${m.committed}`);
  if (mismatched.length > 10) fail(`… and ${mismatched.length - 10} more recorded results that do not match`);

  const reexec = await db.query<{ step: string; n: number }>(
    `SELECT step, (count(*) - count(DISTINCT (execution_id, step)))::int AS n FROM fault_effects GROUP BY step`,
  );
  const reexecutions = Object.fromEntries(reexec.filter((r) => r.n > 0).map((r) => [r.step, r.n]));

  // A completed order's result agrees with its history, activity and child, and holds every signal in order.
  for (const [id, o] of traffic.orders) {
    const e = byId.get(id);
    if (!e) continue;
    const sigs = await db.query<{ payload: { n: number }; consumed_seq: number | null }>(
      'SELECT payload, consumed_seq FROM baton.signals WHERE execution_id = $1 ORDER BY id',
      [id],
    );
    if (sigs.length !== o.acked) {
      if (sigs.length < o.acked) lost += o.acked - sigs.length;
      fail(`workflow ${id}: ${o.acked} signals acknowledged, ${sigs.length} stored`);
    }
    const consumed = sigs.filter((s) => s.consumed_seq !== null).map((s) => s.payload.n);
    if (consumed.some((n, i) => n !== i))
      fail(`workflow ${id} took its signals out of order: ${consumed.join(',')}`);
    if (e.status !== 'completed') continue;
    const out = e.output as OrderOutput;
    const expected = Array.from({ length: o.signals }, (_, n) => ({ n }));
    if (JSON.stringify(out.signals) !== JSON.stringify(expected)) {
      lost += Math.max(0, o.signals - out.signals.length);
      fail(
        `workflow ${id} returned signals ${JSON.stringify(out.signals)}, expected ${JSON.stringify(expected)}`,
      );
    }
    if (consumed.length !== o.signals)
      fail(`workflow ${id} completed with ${consumed.length} of ${o.signals} signals consumed`);
    const activity = execs.find((x) => x.parent_id === id && x.kind === 'activity');
    if ((activity?.output as { token?: string } | undefined)?.token !== out.activity)
      fail(`workflow ${id} returned activity token ${out.activity}, but its activity recorded another`);
  }

  // Cron: the catch-up schedule fired every second between its first and last fire, exactly once each.
  let cronFires = 0;
  for (const [name, periodMs, policy] of [
    ['tick-every-second', 1000, 'catch-up'],
    ['tick-every-two-seconds', 2000, 'skip'],
  ] as const) {
    const prefix = `cron:${name}:`;
    const fires = execs
      .filter((e) => e.idempotency_key?.startsWith(prefix))
      .map((e) => Date.parse(e.idempotency_key!.slice(prefix.length)))
      .sort((a, b) => a - b);
    cronFires += fires.length;
    if (fires.length < 2) {
      fail(`schedule ${name} fired ${fires.length} times`);
      continue;
    }
    let skipped = 0;
    for (let i = 1; i < fires.length; i++) {
      const gap = fires[i] - fires[i - 1];
      if (gap === 0) fail(`schedule ${name} fired twice for ${new Date(fires[i]).toISOString()}`);
      else if (gap !== periodMs) skipped += gap / periodMs - 1;
    }
    // Nothing was ever down past the 30 s grace, so even the skip policy has nothing to skip.
    if (skipped > 0) fail(`schedule ${name} (${policy}) skipped ${skipped} fires`);
  }

  // Limits held for the attempts that counted: per key one at a time, the limited queue at most its limit.
  // The attempt that counted ran on the worker that recorded it (lease_owner is `<host>-<pid>-<random>`).
  const spans = await db.query<{ key: string | null; queue: string; s: number; e: number }>(
    `SELECT f.key, f.queue, extract(epoch FROM f.started_at) * 1000 AS s, extract(epoch FROM f.ended_at) * 1000 AS e
     FROM fault_spans f JOIN baton.executions x ON x.id = f.execution_id AND x.attempts = f.attempt
     WHERE x.status = 'completed' AND f.ended_at IS NOT NULL
       AND f.pid = substring(x.lease_owner FROM '-(\\d+)-[^-]+$')::int`,
  );
  const maxOverlap = (list: { s: number; e: number }[]) => {
    const points = list.flatMap((x) => [
      [x.s, 1],
      [x.e, -1],
    ]);
    // Ends sort before starts at the same instant: a slot freed and taken at once is not an overlap.
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let max = 0;
    for (const [, d] of points) max = Math.max(max, (cur += d));
    return max;
  };
  const byKey = new Map<string, { s: number; e: number }[]>();
  for (const s of spans) if (s.key) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  for (const [key, list] of byKey) {
    const m = maxOverlap(list);
    if (m > 1) fail(`concurrency key ${key}: ${m} jobs ran at once (limit 1)`);
  }
  const limited = maxOverlap(spans.filter((s) => s.queue === 'limited'));
  if (limited > LIMITED_CONCURRENCY)
    fail(`queue limited: ${limited} jobs ran at once (limit ${LIMITED_CONCURRENCY})`);

  return {
    jobs: execs.filter((e) => e.kind !== 'workflow').length,
    workflows: execs.filter((e) => e.kind === 'workflow').length,
    lost,
    duplicateCompletions,
    stuck: stuck.length,
    reexecutions,
    cronFires,
    violations,
  };
}
