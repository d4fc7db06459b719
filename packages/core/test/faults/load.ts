// The fault suite's work: jobs, workflows and cron schedules whose every side effect is counted.
// Worker processes run these; the orchestrator enqueues and starts them and checks the tables below.
import {
  NonRetryableError,
  defineJob,
  defineSchedule,
  defineWorkflow,
  Client,
  type Queryable,
  type StepContext,
  type Store,
} from '../../src/index.js';

/** Queues the fault workers serve. `limited` gets a global concurrency limit of LIMITED_CONCURRENCY. */
export const QUEUES = ['work', 'limited', 'flows', 'acts', 'ticks'];
export const LIMITED_CONCURRENCY = 3;

/**
 * Test-only tables in the fault database:
 * - fault_effects: one row per execution of a side effect (at-least-once: re-executions show here);
 * - fault_idempotent: the side effect as an external system that honours idempotency keys sees it;
 *   its token is what a step or job must have recorded as its result;
 * - fault_spans: when each job attempt ran, to check concurrency limits;
 * - fault_blocks: which blocker steps already blocked their worker once;
 * - fault_audit: every status change into or out of a terminal state, written by triggers on the
 *   engine's own tables, so that a completion recorded twice cannot hide.
 */
export const SETUP_SQL = `
CREATE TABLE fault_effects (
  execution_id text NOT NULL, step text NOT NULL, attempt int NOT NULL, pid int NOT NULL,
  token text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE INDEX ON fault_effects (execution_id, step);
CREATE TABLE fault_idempotent (key text PRIMARY KEY, token text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE fault_spans (
  execution_id text NOT NULL, attempt int NOT NULL, pid int NOT NULL, queue text NOT NULL, key text,
  started_at timestamptz NOT NULL, ended_at timestamptz, PRIMARY KEY (execution_id, attempt, pid));
CREATE TABLE fault_blocks (execution_id text PRIMARY KEY);
CREATE TABLE fault_audit (
  execution_id text NOT NULL, seq int, old_status text, new_status text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp());

CREATE FUNCTION fault_audit_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status
     AND (NEW.status IN ('completed', 'failed', 'cancelled') OR OLD.status IN ('completed', 'failed', 'cancelled')) THEN
    INSERT INTO fault_audit (execution_id, old_status, new_status) VALUES (NEW.id, OLD.status, NEW.status);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER fault_audit_executions AFTER UPDATE ON baton.executions
  FOR EACH ROW EXECUTE FUNCTION fault_audit_executions();

CREATE FUNCTION fault_audit_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.output IS DISTINCT FROM OLD.output THEN
    INSERT INTO fault_audit (execution_id, seq, old_status, new_status)
    VALUES (NEW.execution_id, NEW.seq, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER fault_audit_history AFTER INSERT OR UPDATE ON baton.history
  FOR EACH ROW EXECUTE FUNCTION fault_audit_history();
`;

/** Switches a worker process flips on its fault signals. */
export const hooks = {
  /** SIGKILL this process right after the next side effect commits, before its result is recorded. */
  killAfterEffect: false,
};

let store: Store | undefined;

/** The worker process's store: side effects are written through it, and kickoff jobs start workflows with it. */
export function useStore(s: Store): void {
  store = s;
}

function effects(): Queryable {
  if (!store) throw new Error('useStore() was not called');
  return store.driver;
}

export interface EffectResult {
  /** The token the idempotent side effect kept: the first execution's. */
  token: string;
}

/**
 * Performs a side effect: counted once per execution in fault_effects, and applied once per
 * idempotency key in fault_idempotent, whose kept token it returns (as a payment API would return
 * the original charge). Both rows commit together.
 */
export async function sideEffect(
  executionId: string,
  step: string,
  attempt: number,
  idempotencyKey: string,
): Promise<EffectResult> {
  const token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const [row] = await effects().query<{ token: string }>(
    `WITH raw AS (
       INSERT INTO fault_effects (execution_id, step, attempt, pid, token) VALUES ($1, $2, $3, $4, $5)
     )
     INSERT INTO fault_idempotent (key, token) VALUES ($6, $5)
     ON CONFLICT (key) DO UPDATE SET key = excluded.key
     RETURNING token`,
    [executionId, step, attempt, process.pid, token, idempotencyKey],
  );
  if (hooks.killAfterEffect) process.kill(process.pid, 'SIGKILL');
  return { token: row.token };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export interface WorkInput {
  /** How long the handler works. */
  ms: number;
  /** Attempts below this number fail on purpose (exercising retries). */
  failBelow?: number;
  /** Recorded with the span; the same value is the enqueue's concurrency key, if any. */
  key?: string;
}

/** A job that works, may fail on purpose, records its span and applies one idempotent side effect. */
export const work = defineJob(
  'work',
  { queue: 'work', retry: { maxAttempts: 25, baseDelay: 20, maxDelay: 1000 } },
  async (input: WorkInput, ctx) => {
    await effects().query(
      `INSERT INTO fault_spans (execution_id, attempt, pid, queue, key, started_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())`,
      [ctx.id, ctx.attempt, process.pid, ctx.queue, input.key ?? null],
    );
    await pause(input.ms, ctx.signal);
    if (ctx.attempt < (input.failBelow ?? 0)) throw new Error(`planned failure of attempt ${ctx.attempt}`);
    const { token } = await sideEffect(ctx.id, 'job', ctx.attempt, `job:${ctx.id}`);
    await effects().query(
      'UPDATE fault_spans SET ended_at = clock_timestamp() WHERE execution_id = $1 AND attempt = $2 AND pid = $3',
      [ctx.id, ctx.attempt, process.pid],
    );
    return { token, attempt: ctx.attempt };
  },
);

/** A job that can never succeed: it must end failed after one attempt, however often it is retried. */
export const doomed = defineJob('doomed', { queue: 'work', retry: { maxAttempts: 5 } }, async () => {
  throw new NonRetryableError('this job is meant to fail');
});

/** An activity of the order workflow, run as its own execution on another queue. */
export const chargeCard = defineJob(
  'charge-card',
  { queue: 'acts', retry: { maxAttempts: 25, baseDelay: 20, maxDelay: 1000 } },
  async (input: { amount: number }, ctx) => {
    await pause(5 + (input.amount % 20), ctx.signal);
    return sideEffect(ctx.id, 'activity', ctx.attempt, `activity:${ctx.id}`);
  },
);

/** What cron fires run. */
export const tick = defineJob(
  'tick',
  { queue: 'ticks', retry: { maxAttempts: 25, baseDelay: 20, maxDelay: 1000 } },
  async (_input: null, ctx) => sideEffect(ctx.id, 'tick', ctx.attempt, `tick:${ctx.id}`),
);

const STEP = { retries: 12 };

function effectStep(workflowId: string, name: string) {
  return (s: StepContext) => sideEffect(workflowId, name, s.attempt, s.idempotencyKey);
}

/** A child workflow: two steps around a short durable sleep. */
export const receipt = defineWorkflow('receipt', { queue: 'flows' }, async (ctx) => {
  const send = await ctx.step('send', effectStep(ctx.id, 'send'), STEP);
  await ctx.sleep(30);
  const archive = await ctx.step('archive', effectStep(ctx.id, 'archive'), STEP);
  return { send: send.token, archive: archive.token };
});

export interface OrderInput {
  amount: number;
  /** Signals named `approve` it waits for, one after another. */
  signals: number;
  sleepMs: number;
  child: boolean;
}

export interface OrderOutput {
  steps: Record<string, string>;
  activity: string;
  signals: unknown[];
  child: { send: string; archive: string } | null;
}

/**
 * The order workflow of the fault load: a step, a step and an activity in parallel, an event, a
 * durable sleep, signals, a child workflow, and a last step.
 */
export const order = defineWorkflow(
  'order',
  { queue: 'flows' },
  async (ctx, input: OrderInput): Promise<OrderOutput> => {
    const reserve = await ctx.step('reserve', effectStep(ctx.id, 'reserve'), STEP);
    const [charge, activity] = await Promise.all([
      ctx.step('charge', effectStep(ctx.id, 'charge'), STEP),
      ctx.run(chargeCard, { amount: input.amount }),
    ]);
    await ctx.setEvent('stage', 'charged');
    await ctx.sleep(input.sleepMs);
    const signals: unknown[] = [];
    for (let i = 0; i < input.signals; i++) signals.push(await ctx.waitForSignal('approve'));
    const child = input.child ? await ctx.runChild(receipt, null) : null;
    const ship = await ctx.step('ship', effectStep(ctx.id, 'ship'), STEP);
    return {
      steps: { reserve: reserve.token, charge: charge.token, ship: ship.token },
      activity: activity.token,
      signals,
      child,
    };
  },
);

/**
 * A job that starts an order workflow from inside a worker process, as a webhook handler would:
 * the worker beside it runs the workflow at once when it has room (the start-here path). The id
 * is derived from the job's, so a retried attempt finds the run the first one started.
 */
export const kickoff = defineJob(
  'kickoff',
  { queue: 'work', retry: { maxAttempts: 25, baseDelay: 20, maxDelay: 1000 } },
  async (input: OrderInput, ctx) => {
    if (!store) throw new Error('useStore() was not called');
    const { id } = await new Client(store).start(order, input, { id: kickoffOrderId(ctx.id) });
    return { id };
  },
);

export const kickoffOrderId = (jobId: string) => `kick-${jobId}`;

/**
 * A workflow whose step blocks its worker's event loop for `blockMs` the first time it runs, so
 * that the worker misses its heartbeats and its lease expires under it: a step that runs past its
 * lease. The worker that takes over must win; the blocked one must not record anything after.
 */
export const blocker = defineWorkflow(
  'blocker',
  { queue: 'flows' },
  async (ctx, input: { blockMs: number }) => {
    const r = await ctx.step(
      'block',
      async (s) => {
        const first = await effects().query(
          'INSERT INTO fault_blocks VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1',
          [ctx.id],
        );
        if (first.length === 1) {
          const until = Date.now() + input.blockMs;
          while (Date.now() < until) {
            // Busy on purpose: no timer, no heartbeat, no I/O can run in this process meanwhile.
          }
        }
        return sideEffect(ctx.id, 'block', s.attempt, s.idempotencyKey);
      },
      STEP,
    );
    const after = await ctx.step('after', effectStep(ctx.id, 'after'), STEP);
    return { block: r.token, after: after.token };
  },
);

/** Every second, catching up on missed fires: no fire may be skipped or doubled. */
export const everySecond = defineSchedule('tick-every-second', {
  cron: '* * * * * *',
  job: tick,
  missed: 'catch-up',
});

/** Every two seconds, skipping fires missed for longer than the grace period. */
export const everyTwoSeconds = defineSchedule('tick-every-two-seconds', {
  cron: '*/2 * * * * *',
  job: tick,
  missed: 'skip',
});
