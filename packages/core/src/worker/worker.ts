import { BatonError } from '../errors.js';
import { toMs, type Duration } from '../duration.js';
import { HistoryWriter } from '../workflow/history-writer.js';
import { registerDefinitions } from '../sql/workers.js';
import { WAKEUP_CHANNEL } from '../wakeup.js';
import type { ClaimedRow } from '../sql/claim.js';
import type { Logger } from '../logger.js';
import type { LocalRunner, Store } from '../store.js';
import { Lifecycle, sleep } from './lifecycle.js';
import { workerSettings, type WorkerOptions, type WorkerSettings } from './settings.js';
import { Claimer } from './claimer.js';
import { Dispatcher } from './dispatcher.js';
import { OutcomeWriter } from './outcomes.js';
import { Heartbeat } from './heartbeat.js';
import { Maintenance } from './maintenance.js';
import { ScheduleFirer } from './schedules.js';
import { listenReachesUs } from './listen-check.js';
import { shutDown } from './shutdown.js';
import type { Servable } from './served.js';
import type { JobDefinition } from '../job.js';
import type { WorkflowDefinition } from '../workflow/definition.js';

export type { WorkerOptions } from './settings.js';
export type { Servable } from './served.js';

/**
 * Runs jobs and workflows. Many workers, in one process or on many machines, share one database
 * and coordinate only through it. A worker is made of parts, one per concern: claiming and the
 * local buffer (Claimer), dispatch (Dispatcher), outcome writes (OutcomeWriter), the lease
 * (Heartbeat), recovery and pruning (Maintenance), schedules (ScheduleFirer) and shutdown.
 */
export class Worker implements LocalRunner {
  readonly id: string;
  /** Whether NOTIFY reached this worker in the start-up self-check. */
  listenWorks = false;
  private readonly settings: WorkerSettings;
  private readonly log: Logger;
  private readonly life: Lifecycle;
  private readonly claimer: Claimer;
  private readonly dispatcher: Dispatcher;
  private readonly outcomes: OutcomeWriter;
  private readonly heartbeat: Heartbeat;
  private readonly schedules: ScheduleFirer;
  private readonly maintenance: Maintenance;
  private unlisten: (() => Promise<void>)[] = [];
  /** Withdraws this worker from its store's local runners. */
  private detachRunner: (() => void) | undefined;

  constructor(
    readonly store: Store,
    options: WorkerOptions,
  ) {
    const s = (this.settings = workerSettings(store, options));
    this.id = s.id;
    this.log = s.log;
    const db = store.driver;
    const life = (this.life = new Lifecycle(s.log));
    this.outcomes = new OutcomeWriter(store, s.id, life, s.log, s.completionDelayMs);
    this.claimer = new Claimer(db, s.id, s.served, s.concurrency, s.prefetch, s.claimDelayMs, life, s.log, {
      running: () => this.dispatcher.size,
      isRunning: (id) => this.dispatcher.has(id),
      heldIds: () => [...this.dispatcher.ids(), ...this.outcomes.ids()],
      dispatch: () => this.dispatcher.dispatch(),
    });
    this.heartbeat = new Heartbeat(db, s, life, s.log, {
      runningIds: () => this.dispatcher.ids(),
      declaredDead: () => this.declaredDead(),
      cancelRequested: (id) => this.dispatcher.cancel(id),
    });
    const claimer = this.claimer;
    const { jobs, workflows } = s.served;
    this.dispatcher = new Dispatcher({ jobs, workflows, concurrency: s.concurrency }, claimer, life, {
      workerId: s.id,
      store,
      life,
      log: s.log,
      outcomes: this.outcomes,
      artifacts: store.artifacts,
      history: new HistoryWriter(db, s.id),
      saveProgress: this.heartbeat.saveProgressLater,
      wakeIn: (ms) => claimer.wakeIn(ms),
      metrics: s.metrics,
      removeOnComplete: s.removeOnComplete,
      ended: (row) => {
        this.heartbeat.forget(row.id);
        if (row.holds_slot) claimer.slotFreed();
      },
    });
    this.schedules = new ScheduleFirer(db, s.served);
    this.maintenance = new Maintenance(store, s.leaseMs, s.retention, this.schedules, life, s.log, {
      wake: () => claimer.wake(),
      suspectLostClaims: () => claimer.suspectLostClaims(),
      refreshQueueLimits: () => claimer.refreshQueueLimits(),
      recovered: (n) => s.metrics?.recovered(n),
    });
    s.metrics?.observeRunning(() => this.dispatcher.size);
  }

  /** Registers the worker, checks LISTEN, and starts claiming. Resolves once running. */
  async start(): Promise<void> {
    if (this.life.phase !== 'new')
      throw new BatonError('E_INVALID_STATE', `worker ${this.id} was already started`);
    this.life.phase = 'running';
    const db = this.store.driver;
    const s = this.settings;
    await this.store.checkSchema();
    await this.heartbeat.register();
    await registerDefinitions(db, definitionRows(s.served.jobs.values(), s.served.workflows.values()));
    await this.schedules.register();
    await this.claimer.refreshQueueLimits();

    this.unlisten.push(
      await db.listen(WAKEUP_CHANNEL, (payload) => this.claimer.onWakeup(payload)),
      await db.listen('baton_cancel', (id) => this.dispatcher.cancel(id)),
    );
    this.listenWorks = await listenReachesUs(db);
    if (!this.listenWorks) {
      this.log.warn(
        { pollMs: s.pollMs },
        'LISTEN/NOTIFY did not deliver a test notification (a transaction pooler such as PgBouncer drops LISTEN); falling back to polling',
      );
    }
    this.heartbeat.start();
    this.maintenance.start();
    this.life.every(s.pollMs, 'poll', async () => this.claimer.poll());
    this.detachRunner = this.store.attachRunner(this);
    this.log.info(
      { queues: s.served.queues, jobs: s.served.names, concurrency: s.concurrency },
      'worker started',
    );
    void this.maintenance.run().catch(() => undefined);
    this.claimer.wake();
  }

  /**
   * Serves more definitions from now on: a configuration reload that adds YAML workflows gives them
   * to a running worker this way. Names already served by the same definition are skipped; a
   * schedule with a served schedule's name replaces it; queues default to the new definitions'.
   * Nothing is ever removed: executions started on a definition must still find it.
   */
  async serve(more: Servable): Promise<void> {
    const change = this.settings.served.add(more);
    if (this.life.phase !== 'running') return;
    const db = this.store.driver;
    if (change.jobs.length + change.workflows.length > 0) {
      await registerDefinitions(db, definitionRows(change.jobs, change.workflows));
    }
    if (change.schedulesChanged) await this.schedules.register();
    if (change.queuesChanged) await this.claimer.refreshQueueLimits();
    await this.heartbeat.register();
    this.log.info(
      {
        added: [...change.jobs, ...change.workflows].map((d) => d.name),
        queues: this.settings.served.queues,
      },
      'worker serves more',
    );
    this.claimer.wake();
  }

  /** Resolves when nothing is running or buffered (tests and the demo use it). */
  async idle(): Promise<void> {
    while (this.dispatcher.size > 0 || this.claimer.buffered > 0 || this.outcomes.busy) {
      if (this.dispatcher.size > 0) await this.dispatcher.drained();
      else await sleep(5);
      await this.outcomes.settled();
    }
  }

  /**
   * Graceful shutdown: stop claiming, give back jobs claimed but not started, let running
   * handlers finish until the deadline, then abort them and give them back without counting
   * the attempt. Completions are written before the worker unregisters.
   */
  async stop(options: { deadline?: Duration } = {}): Promise<void> {
    if (this.life.phase !== 'running') {
      this.life.phase = 'stopped';
      return;
    }
    const deadlineMs =
      options.deadline === undefined ? this.settings.shutdownMs : toMs(options.deadline, 'stop deadline');
    await shutDown(
      {
        id: this.id,
        life: this.life,
        claimer: this.claimer,
        dispatcher: this.dispatcher,
        outcomes: this.outcomes,
        heartbeat: this.heartbeat,
        detach: async () => {
          this.detachRunner?.();
          await Promise.all(this.unlisten.map((off) => off().catch(() => undefined)));
        },
      },
      deadlineMs,
    );
    this.log.info('worker stopped');
  }

  /** @internal */
  hasRoomFor(workflow: string, queue: string): boolean {
    return (
      this.life.running &&
      this.settings.served.workflows.has(workflow) &&
      this.claimer.servesUnlimited(queue) &&
      this.dispatcher.size + this.claimer.buffered < this.settings.concurrency
    );
  }

  /** @internal */
  runStartedHere(row: ClaimedRow): void {
    if (!this.life.running) {
      // Stopping began while the row was being inserted: give it to the queue.
      void this.outcomes.release([row.id]);
      return;
    }
    this.claimer.addFirst(row);
  }

  /** @internal */
  startMayHaveCommitted(): void {
    this.claimer.lostReply();
  }

  /** Another worker declared this one dead: what it holds went back to the queue, so let all of it go. */
  private declaredDead(): void {
    this.log.warn(
      { running: this.dispatcher.size, buffered: this.claimer.buffered },
      'this worker was declared dead by another (missed heartbeats); its executions went to other workers: stopping them and registering again',
    );
    // What runs here now would only be fenced out when it tries to record.
    this.claimer.takeAll();
    this.dispatcher.abortAll(
      'lost',
      (row) =>
        new BatonError(
          'E_LEASE_EXPIRED',
          `worker ${this.id} lost its lease on ${row.id} (missed heartbeats)`,
        ),
    );
  }
}

/** The rows of baton.definitions for these jobs and workflows (clients enqueue and start by name). */
function definitionRows(jobs: Iterable<JobDefinition>, workflows: Iterable<WorkflowDefinition>) {
  return [
    ...[...jobs].map((d) => ({ kind: 'job' as const, name: d.name, queue: d.queue })),
    ...[...workflows].map((d) => ({
      kind: 'workflow' as const,
      name: d.name,
      queue: d.queue,
      timeoutMs: d.timeoutMs,
    })),
  ];
}
