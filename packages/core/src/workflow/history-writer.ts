// History entries of all the workflows a worker runs, written together: the entries that are ready
// while an earlier write is on its way go in one statement, so concurrent workflows share commits
// instead of paying one each. A lone entry is written at once.
import type { Queryable } from '../driver/types.js';
import { recordEntries, type EntryResult, type Lease, type NewEntry } from './history.js';

/** Writes in flight at once; more would only split the batches that build up meanwhile. */
const MAX_IN_FLIGHT = 2;

interface Request {
  lease: Lease;
  entry: NewEntry;
  settle: (r: EntryResult | Error) => void;
}

export class HistoryWriter {
  private queue: Request[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly db: Queryable,
    private readonly workerId: string,
  ) {}

  /** Appends `entry` at its position for the run holding `lease` (see recordEntries for the results). */
  record(lease: Lease, entry: NewEntry): Promise<EntryResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lease, entry, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    // Entries that become ready in the same burst of microtasks go together.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    this.inFlight++;
    try {
      const results = await recordEntries(this.db, this.workerId, batch);
      batch.forEach((b, i) => b.settle(results[i]));
    } catch (err) {
      for (const b of batch) b.settle(err as Error);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
