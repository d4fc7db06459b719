// The worker's lease: one registration row whose heartbeat covers every execution the worker runs.
// The heartbeat also carries reported progress and picks up cancellations NOTIFY did not deliver.
import { hostname } from 'node:os';
import { heartbeat, registerWorker, saveProgress, unregisterWorker } from '../sql/workers.js';
import type { Driver } from '../driver/types.js';
import type { Logger } from '../logger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Served } from './served.js';

/** What the heartbeat needs from the rest of its worker. */
export interface HeartbeatHost {
  /** Ids of the executions running now. */
  runningIds(): string[];
  /** Another worker declared this one dead and requeued what it held: stop all of it (it registers again next). */
  declaredDead(): void;
  /** A cancellation was requested for a running execution. */
  cancelRequested(id: string): void;
}

export class Heartbeat {
  /** Progress reported by running jobs (JSON text), written with the next beat. */
  private readonly progress = new Map<string, string>();

  constructor(
    private readonly db: Driver,
    private readonly registration: {
      id: string;
      served: Pick<Served, 'queues' | 'names'>;
      leaseMs: number;
    },
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly host: HeartbeatHost,
  ) {}

  /** Keeps a job's reported progress for the next beat. An arrow function: it is handed around. */
  readonly saveProgressLater = (id: string, progress: string): void => void this.progress.set(id, progress);

  /** Progress of an attempt that ended is not written. */
  forget(id: string): void {
    this.progress.delete(id);
  }

  /** Registers (or registers again: after being declared dead, or with more to serve) this worker. */
  register(): Promise<void> {
    const r = this.registration;
    return registerWorker(this.db, {
      id: r.id,
      hostname: hostname(),
      pid: process.pid,
      queues: r.served.queues,
      names: r.served.names,
      leaseMs: r.leaseMs,
    });
  }

  /** Beats every third of the lease, so that two lost beats in a row still leave the lease standing. */
  start(): void {
    this.life.every(Math.max(50, Math.floor(this.registration.leaseMs / 3)), 'heartbeat', () => this.beat());
  }

  /** One heartbeat: renews the lease, writes progress, and acts on requested cancellations. */
  async beat(): Promise<void> {
    const { alive, cancelled } = await heartbeat(this.db, this.registration.id, this.host.runningIds());
    if (!alive && this.life.running) {
      this.host.declaredDead();
      await this.register();
    }
    for (const id of cancelled) this.host.cancelRequested(id);
    if (this.progress.size > 0) {
      const batch = new Map(this.progress);
      this.progress.clear();
      await saveProgress(this.db, this.registration.id, batch);
    }
  }

  /** Removes this worker's registration (the last step of a graceful stop). */
  async unregister(): Promise<void> {
    await unregisterWorker(this.db, this.registration.id).catch((err) =>
      this.log.warn({ err: (err as Error).message }, 'could not unregister worker'),
    );
  }
}
