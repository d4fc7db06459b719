// History writes of all the workflows a worker runs, written together: the writes that are ready
// while an earlier one is on its way go in one statement, so concurrent workflows (and the many
// results a resumed fan-out hands over) share round trips and commits instead of paying one each.
// A lone write goes at once.
import type { Queryable } from '../driver/types.js';
import {
  endWaits,
  recordEntries,
  type EntryResult,
  type Lease,
  type NewEntry,
  type WaitEnd,
} from './history.js';

/** Writes of one kind in flight at once; more would only split the batches that build up meanwhile. */
const MAX_IN_FLIGHT = 2;

/** Requests of one kind, written `MAX_IN_FLIGHT` batches at a time. */
class Coalescer<Req, Res> {
  private queue: { req: Req; settle: (r: Res | Error) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly write: (batch: Req[]) => Promise<Res[]>) {}

  submit(req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    // Requests that become ready in the same burst of microtasks go together.
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
      const results = await this.write(batch.map((b) => b.req));
      batch.forEach((b, i) => b.settle(results[i]));
    } catch (err) {
      for (const b of batch) b.settle(err as Error);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}

export class HistoryWriter {
  private readonly records: Coalescer<{ lease: Lease; entry: NewEntry }, EntryResult>;
  private readonly ends: Coalescer<{ lease: Lease; end: WaitEnd }, boolean>;

  constructor(db: Queryable, workerId: string) {
    this.records = new Coalescer((batch) => recordEntries(db, workerId, batch));
    this.ends = new Coalescer((batch) => endWaits(db, workerId, batch));
  }

  /** Appends `entry` at its position for the run holding `lease` (see recordEntries for the results). */
  record(lease: Lease, entry: NewEntry): Promise<EntryResult> {
    return this.records.submit({ lease, entry });
  }

  /** Ends a waiting entry of the run holding `lease`; false if the lease is lost (see endWait). */
  end(lease: Lease, end: WaitEnd): Promise<boolean> {
    return this.ends.submit({ lease, end });
  }
}
