// What any worker does now and then so that no control plane is needed: take back the executions
// of workers whose lease expired (and, rarely, of ones that vanished without a trace), fire due
// schedules, re-read queue limits, and prune finished executions past retention.
import { pruneFinished } from '../client.js';
import { recoverExpired, recoverOrphans } from '../sql/workers.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store.js';
import type { Lifecycle } from './lifecycle.js';
import type { ScheduleFirer } from './schedules.js';

/** How often a worker looks for running executions whose owner is not registered at all. */
const ORPHAN_SWEEP_MS = 5 * 60_000;
/** How often a worker prunes. */
const PRUNE_EVERY_MS = 60_000;

export interface MaintenanceHost {
  /** Work became claimable (recovered or fired): claim now. */
  wake(): void;
  /** Look for executions leased to this worker that it does not know (the rare sweep's other half). */
  suspectLostClaims(): void;
  /** Re-reads which queues have global limits. */
  refreshQueueLimits(): Promise<void>;
  /** Executions were taken back from workers whose lease expired. */
  recovered(n: number): void;
}

export class Maintenance {
  private lastPrune = 0;
  private lastOrphanSweep = Date.now();

  constructor(
    private readonly store: Store,
    private readonly leaseMs: number,
    private readonly retention: { completedMs: number; failedMs: number },
    private readonly schedules: ScheduleFirer,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly host: MaintenanceHost,
  ) {}

  /** Runs every half lease (at most every 5 s), so that a dead worker's executions wait little longer than its lease. */
  start(): void {
    this.life.every(Math.min(5000, Math.max(100, Math.floor(this.leaseMs / 2))), 'maintenance', () =>
      this.run(),
    );
  }

  async run(): Promise<void> {
    if (!this.life.running) return;
    const recovered = await recoverExpired(this.store.driver);
    if (Date.now() - this.lastOrphanSweep > ORPHAN_SWEEP_MS) {
      this.lastOrphanSweep = Date.now();
      recovered.push(
        ...(await recoverOrphans(this.store.driver, Math.max(ORPHAN_SWEEP_MS, 3 * this.leaseMs))),
      );
      // A run this worker holds but was never handed (a reply lost in a way nothing noticed)
      // would keep its lease for ever: the same rare sweep looks for those too.
      this.host.suspectLostClaims();
    }
    if (recovered.length > 0) {
      this.host.recovered(recovered.length);
      this.log.warn(
        { executions: recovered.length },
        'recovered executions from workers whose lease expired',
      );
      this.host.wake();
    }
    const fired = await this.schedules.fireDue();
    if (fired > 0) this.host.wake();
    await this.host.refreshQueueLimits();
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      const n = await pruneFinished(this.store, this.retention);
      if (n > 0) this.log.info({ pruned: n }, 'pruned finished executions past retention');
    }
  }
}
