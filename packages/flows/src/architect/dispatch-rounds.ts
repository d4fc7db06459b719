// The dispatcher's rounds in `baton architect`: which passes a wake-up runs, and where each starts.
//
// A pass reads at most DISPATCH_BATCH pending tasks (one transaction, bounded locks). Tasks at the
// head of the queue that no session with room can take (each targets a full session, say) must not
// hide a task behind them that one could take. So a round whose pass from the head stops at its
// limit with room left looks further, one pass more, from where the last round's look stopped (or
// from where this round got to, if that is further on): the look goes round the whole queue over
// successive rounds, and a round that places nothing reads at most two passes' worth of tasks,
// however long the queue (decision 0031).
import type { DispatchPass, ServiceCursor } from './store/dispatch.js';

/** One dispatcher pass, from the head of the queue or after `after`. */
export type RunPass = (after?: ServiceCursor) => Promise<DispatchPass>;

/**
 * How many looks in a row may pick up after the task that filled the last room before the look
 * starts over. Picking up serves the tasks after a placed one without walking the queue again;
 * starting over now and then reaches a task the look passed while no session could take it, which
 * new tasks arriving at the tail would otherwise keep behind them.
 */
const MAX_PICKUPS = 10;

export class DispatchRounds {
  /** Where the next round's look starts; null: right after where the round got to. */
  private lookFrom: ServiceCursor | null = null;
  /** Looks that filled the last room since the look last started over. */
  private pickups = 0;

  constructor(private readonly pass: RunPass) {}

  /**
   * Serves the queue once: a pass from the head (the best tasks first), then, while a pass stops at
   * its limit with room left, another from where it stopped. Passes go on at once while they place
   * tasks; the first that places nothing is followed by the look further, and the second ends the
   * round.
   */
  async round(stopping: () => boolean = () => false): Promise<void> {
    let pass = await this.pass();
    let from: ServiceCursor | null = null;
    let looked = false;
    while (pass.stopped === 'limit' && pass.lastRouted && !stopping()) {
      from = pass.lastRouted;
      if (pass.assignments.length === 0) {
        if (looked) {
          this.lookFrom = from;
          return;
        }
        looked = true;
        // Only the keys are compared: ids are ordered by the database's collation. On a tie (a
        // `sendMany` batch shares one key) the look starts at its own place, which may read again
        // up to a pass of tasks this round has read, but always moves the look on.
        if (this.lookFrom && this.lookFrom[0] >= from[0]) from = this.lookFrom;
      }
      pass = await this.pass(from);
    }
    if (!looked || stopping()) return;
    if (pass.stopped === 'no_room' && ++this.pickups < MAX_PICKUPS) {
      // The look filled the last room: the next picks up after the last task it routed, so that
      // the tasks after it do not wait for a whole turn round the queue.
      this.lookFrom = pass.lastRouted ?? from;
    } else {
      // The look reached the end of the queue, or has picked up often enough: the next starts over.
      this.lookFrom = null;
      this.pickups = 0;
    }
  }
}
