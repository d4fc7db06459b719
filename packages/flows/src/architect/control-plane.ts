// `baton architect`: the process that keeps the Architect moving. It runs the task workflows, serves
// the queue whenever a session has room (woken by NOTIFY, and on a timer), marks silent sessions
// stale and watches SLAs.
import { Worker, type Duration, type Store } from '@baton/core';
import type { Architect } from './architect.js';
import { DISPATCH_CHANNEL } from './context.js';
import { DispatchRounds } from './dispatch-rounds.js';
import { logDisabledChannels, sampleQueueDepth } from './sla-monitor.js';
import { ARCHITECT_QUEUE } from './workflow.js';

/**
 * The least time between two dispatcher passes started by wake-ups: a task waiting for room waits
 * at most this much longer, and a pass serves every task that became servable meanwhile.
 */
const DISPATCH_GAP_MS = 100;

/**
 * The task workflows' worker claims 20 ms after a wake-up and writes completions 10 ms after the
 * first is ready (the engine's claimBatchDelay and completionBatchDelay): a task's room reaches the
 * dispatcher that much later. On `bench router` this cut the machine's CPU per task by a quarter.
 */
const WORKFLOW_CLAIM_DELAY_MS = 20;
const WORKFLOW_COMPLETION_DELAY_MS = 10;

export interface ControlPlaneOptions {
  /** Task workflows run at once (default 50: they mostly wait). */
  readonly concurrency?: number;
  /** How often the SLA monitor runs (default 15 s). */
  readonly slaIntervalMs?: number;
  /** How often queued tasks are served without a wake-up (default 5 s). */
  readonly dispatchIntervalMs?: number;
  /** A control plane silent this long is dead and its workflows are taken over (the engine's lease, default 30 s). */
  readonly lease?: Duration;
}

export interface ControlPlane {
  stop(): Promise<void>;
}

export async function startControlPlane(
  store: Store,
  architect: Architect,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const ctx = architect.context;
  const worker = new Worker(store, {
    workflows: [architect.workflow],
    queues: [ARCHITECT_QUEUE],
    concurrency: options.concurrency ?? 50,
    // Every task's outcome wakes its workflow, whose turn (look at the task, free what it held,
    // complete) may wait a few milliseconds: waiting lets many share one claim and one completion.
    claimBatchDelay: WORKFLOW_CLAIM_DELAY_MS,
    completionBatchDelay: WORKFLOW_COMPLETION_DELAY_MS,
    lease: options.lease,
    logger: ctx.log,
  });
  await worker.start();
  logDisabledChannels(ctx);

  const loops: Loop[] = [];
  let stopping = false;
  const guarded = (name: string, fn: () => Promise<unknown>) => async () => {
    try {
      await fn();
    } catch (err) {
      if (!stopping) ctx.log.error({ err }, `architect ${name} failed; it runs again at its next turn`);
    }
  };

  // The dispatcher: a round serves what it can (dispatch-rounds.ts). New room comes from a change,
  // which kicks it: wake-ups during a round, and within DISPATCH_GAP_MS of its start, coalesce
  // into one round.
  const rounds = new DispatchRounds((after) => architect.tasks.dispatch({ after }));
  const dispatcher = new Loop(
    options.dispatchIntervalMs ?? 5000,
    guarded('dispatcher', () => rounds.round(() => stopping)),
    DISPATCH_GAP_MS,
  );
  loops.push(dispatcher);
  const unlisten = await ctx.driver.listen(DISPATCH_CHANNEL, () => dispatcher.kick());
  const unlistenEnded = ctx.taskEnded.on(() => dispatcher.kick());

  const healthMs = (ctx.rules().routing.health_monitoring?.check_interval_seconds ?? 30) * 1000;
  if (ctx.rules().routing.health_monitoring?.enabled !== false)
    loops.push(
      new Loop(
        healthMs,
        guarded('health check', () => architect.sessions.markStale()),
      ),
    );
  loops.push(
    new Loop(
      options.slaIntervalMs ?? 15_000,
      guarded('SLA monitor', async () => {
        const check = await architect.checkSla();
        for (const id of check.reassign)
          await architect.tasks
            .reassign(id)
            .catch((err) => ctx.log.warn({ err, task: id }, 'SLA reassign_task failed'));
        await sampleQueueDepth(ctx);
      }),
    ),
  );
  for (const l of loops) l.start();
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops.map((l) => l.stop()));
      await unlisten();
      unlistenEnded();
      await worker.stop();
    },
  };
}

/**
 * Runs `fn` every `intervalMs`, or sooner when kicked; never two runs at once. Runs start at least
 * `minGapMs` apart, so that a burst of kicks (every completion kicks the dispatcher) costs a pass
 * per gap, not a pass per kick.
 */
class Loop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastStart = -Infinity;
  /** A timer is set for the end of the current gap. */
  private deferred = false;

  constructor(
    private readonly intervalMs: number,
    private readonly fn: () => Promise<void>,
    private readonly minGapMs = 0,
  ) {}

  start(): void {
    this.kick();
  }

  kick(): void {
    if (this.stopped || this.deferred) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    const wait = this.lastStart + this.minGapMs - performance.now();
    if (wait > 0) {
      this.deferred = true;
      this.timer = setTimeout(() => {
        this.deferred = false;
        this.kick();
      }, wait);
      return;
    }
    this.lastStart = performance.now();
    this.running = this.fn().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.timer = setTimeout(() => this.kick(), this.intervalMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
