import { Cron } from 'croner';
import { BatonError } from './errors.js';
import { toJsonText } from './json.js';
import { checkName, isJobDefinition, type JobDefinition } from './job.js';
import { newId } from './ids.js';
import { insertExecutions } from './sql/enqueue.js';
import type { Driver, Queryable } from './driver/types.js';

/**
 * What happens to fires that were due while no worker was running:
 * - `skip` (default): they are dropped; the schedule resumes with its next fire.
 * - `latest`: only the most recent missed fire runs, once.
 * - `catch-up`: every missed fire runs, oldest first, up to `maxCatchUp`.
 */
export type MissedPolicy = 'skip' | 'latest' | 'catch-up';

export interface ScheduleOptions<I> {
  /** Five fields (minute hour day month weekday) or six with seconds first; croner syntax. */
  cron: string;
  job: JobDefinition<I>;
  input?: I;
  /** IANA zone the cron is read in, e.g. `Europe/Paris`. Default UTC. */
  timezone?: string;
  missed?: MissedPolicy;
  /** With `catch-up`, at most this many missed fires run (the most recent ones). Default 100. */
  maxCatchUp?: number;
}

const SCHEDULE = Symbol.for('baton.schedule');

export interface ScheduleDefinition<I = unknown> {
  readonly [SCHEDULE]: true;
  readonly name: string;
  readonly cron: string;
  readonly timezone: string | undefined;
  readonly job: JobDefinition<I>;
  readonly inputJson: string;
  readonly missed: MissedPolicy;
  readonly maxCatchUp: number;
}

/** A fire counts as on time (not missed) when it is processed within this long of its time. */
export const ON_TIME_GRACE_MS = 30_000;

function parseCron(pattern: string, timezone: string | undefined, where: string): Cron<unknown> {
  try {
    const cron = new Cron(pattern, { timezone, paused: true });
    // croner checks the zone only when it computes a fire.
    cron.nextRun();
    return cron;
  } catch (err) {
    throw new BatonError(
      'E_INVALID_CRON',
      `${where}: cron '${pattern}'${timezone === undefined ? '' : ` in time zone '${timezone}'`} is invalid: ${(err as Error).message}. Use five fields (minute hour day month weekday), e.g. '*/5 * * * *', and an IANA zone such as 'Europe/Paris'.`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Declares a cron schedule in code. Pass it to a Worker; whichever workers run it, each fire
 * enqueues its job exactly once (idempotency key `cron:<name>:<fire time ISO>`).
 */
export function defineSchedule<I>(name: string, options: ScheduleOptions<I>): ScheduleDefinition<I> {
  checkName(name, 'schedule name');
  if (typeof options.cron !== 'string')
    throw new BatonError('E_INVALID_CRON', `schedule '${name}': cron must be a string`);
  if (!isJobDefinition(options.job))
    throw new BatonError(
      'E_INVALID_OPTION',
      `schedule '${name}': job must be a job definition made by defineJob`,
    );
  const cron = parseCron(options.cron, options.timezone, `schedule '${name}'`);
  if (cron.nextRun() === null)
    throw new BatonError('E_INVALID_CRON', `schedule '${name}': cron '${options.cron}' never fires`);
  const missed = options.missed ?? 'skip';
  if (!['skip', 'latest', 'catch-up'].includes(missed)) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `schedule '${name}': missed must be 'skip', 'latest' or 'catch-up', got '${String(missed)}'`,
    );
  }
  const maxCatchUp = options.maxCatchUp ?? 100;
  if (!Number.isInteger(maxCatchUp) || maxCatchUp < 1)
    throw new BatonError('E_INVALID_OPTION', `schedule '${name}': maxCatchUp must be a positive integer`);
  return {
    [SCHEDULE]: true,
    name,
    cron: options.cron,
    timezone: options.timezone,
    job: options.job,
    inputJson: toJsonText(options.input ?? null, `input of schedule '${name}'`),
    missed,
    maxCatchUp,
  };
}

export function isScheduleDefinition(value: unknown): value is ScheduleDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCHEDULE] === true;
}

function nextAfter(s: ScheduleDefinition, after: Date): Date {
  const next = parseCron(s.cron, s.timezone, `schedule '${s.name}'`).nextRun(after);
  if (!next)
    throw new BatonError('E_INVALID_CRON', `schedule '${s.name}' has no fire after ${after.toISOString()}`);
  return next;
}

/**
 * Stores the schedules. A schedule whose cron or zone changed starts over from now; one that is
 * unchanged keeps its next fire, so a restart does not lose a due fire.
 */
export async function upsertSchedules(
  db: Queryable,
  schedules: readonly ScheduleDefinition[],
): Promise<void> {
  const [{ now }] = await db.query<{ now: Date }>('SELECT now() AS now');
  for (const s of schedules) {
    await db.query(
      `INSERT INTO baton.schedules (name, cron, timezone, job_name, queue, input, missed, next_fire_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
       ON CONFLICT (name) DO UPDATE SET
         next_fire_at = CASE WHEN baton.schedules.cron IS DISTINCT FROM excluded.cron
                               OR baton.schedules.timezone IS DISTINCT FROM excluded.timezone
                             THEN excluded.next_fire_at ELSE baton.schedules.next_fire_at END,
         cron = excluded.cron, timezone = excluded.timezone, job_name = excluded.job_name,
         queue = excluded.queue, input = excluded.input, missed = excluded.missed, updated_at = now()`,
      [
        s.name,
        s.cron,
        s.timezone ?? null,
        s.job.name,
        s.job.queue,
        s.inputJson,
        s.missed,
        nextAfter(s, new Date(now)),
      ],
    );
  }
}

/** Which due fire times to enqueue under the schedule's missed policy. */
export function firesToRun(s: ScheduleDefinition, due: readonly Date[], now: Date): Date[] {
  const onTime = due.filter((d) => now.getTime() - d.getTime() <= ON_TIME_GRACE_MS);
  const missed = due.filter((d) => now.getTime() - d.getTime() > ON_TIME_GRACE_MS);
  if (s.missed === 'catch-up') return [...missed.slice(-s.maxCatchUp), ...onTime];
  if (s.missed === 'latest' && onTime.length === 0 && missed.length > 0) return [missed[missed.length - 1]];
  return onTime;
}

/**
 * Fires every due schedule among `schedules`. Each schedule row is locked with SKIP LOCKED while
 * its fires are enqueued and its next fire is advanced, in one transaction. Returns the number of
 * jobs enqueued.
 */
export async function fireDueSchedules(
  driver: Driver,
  schedules: readonly ScheduleDefinition[],
): Promise<number> {
  if (schedules.length === 0) return 0;
  const byName = new Map(schedules.map((s) => [s.name, s]));
  return driver.transaction(async (tx) => {
    const rows = await tx.query<{ name: string; next_fire_at: Date; now: Date }>(
      `SELECT name, next_fire_at, now() AS now FROM baton.schedules
       WHERE name = ANY($1::text[]) AND next_fire_at <= now()
       FOR UPDATE SKIP LOCKED`,
      [[...byName.keys()]],
    );
    let enqueued = 0;
    for (const row of rows) {
      const s = byName.get(row.name);
      if (!s) continue;
      const now = new Date(row.now);
      const due: Date[] = [];
      // Bound the walk: a schedule down for years at one fire a second is not walked fire by fire.
      const cap = Math.max(s.maxCatchUp, 1000);
      for (let t = new Date(row.next_fire_at); t <= now; t = nextAfter(s, t)) {
        due.push(t);
        if (due.length > cap) due.shift();
      }
      const fires = firesToRun(s, due, now);
      if (fires.length > 0) {
        await insertExecutions(
          tx,
          fires.map((t) => ({
            id: newId(),
            kind: 'job' as const,
            name: s.job.name,
            queue: s.job.queue,
            priority: s.job.priority,
            runAtMs: null,
            delayMs: null,
            maxAttempts: s.job.retry.maxAttempts,
            input: s.inputJson,
            idempotencyKey: `cron:${s.name}:${t.toISOString()}`,
            concurrencyKey: null,
            concurrencyLimit: null,
            parentId: null,
          })),
        );
        enqueued += fires.length;
      }
      await tx.query(
        'UPDATE baton.schedules SET next_fire_at = $2, last_fire_at = coalesce($3, last_fire_at) WHERE name = $1',
        [s.name, nextAfter(s, now), fires.at(-1) ?? null],
      );
    }
    return enqueued;
  });
}
