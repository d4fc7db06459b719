// The order in which a workflow run hands results to its code. Code that races durable operations
// (Promise.race, Promise.any) decides by which result comes first, so a replay must hand the
// results over in the order the first run did. Every result gets an ordinal, recorded with it
// (history.settled); a replay hands recorded results over one per turn of the event loop, smallest
// ordinal first, so the code runs between two of them as it did (the smallest ordinal left goes at
// once), and holds results that arrive live (a wait that ends now) until the recorded ones the
// code still asks for are handed over.

export class SettleOrder {
  private nextAssigned: number;
  private nextLive: number;
  private readonly liveReady = new Map<number, () => void>();
  private readonly skipped = new Set<number>();
  private readonly replayed: { ordinal: number; go: () => void }[] = [];
  /** The history's ordinals, ascending, and how many of them from the start have been handed over. */
  private readonly inHistory: number[];
  private handedOver = 0;
  private readonly handed = new Set<number>();
  private turnScheduled = false;
  /** Set once a whole turn went by with no recorded result asked for: the replay has caught up. */
  private caughtUp: boolean;

  /**
   * `recorded`: the ordinals in the history (empty for a fresh run, whose results go through as
   * they come).
   */
  constructor(recorded: readonly number[]) {
    this.inHistory = [...recorded].sort((a, b) => a - b);
    this.nextAssigned = this.nextLive =
      this.inHistory.length === 0 ? 0 : this.inHistory[this.inHistory.length - 1] + 1;
    this.caughtUp = recorded.length === 0;
  }

  /** Waits for the turn of a result the history recorded (null: recorded before ordinals, goes at once). */
  recorded(ordinal: number | null): Promise<void> {
    if (ordinal === null) return Promise.resolve();
    this.caughtUp = false;
    this.schedule();
    // The smallest ordinal not handed over yet, alone: nothing the code could ask for can come
    // before it, so it goes at once (a replay of operations awaited one by one pays no turn each).
    if (this.replayed.length === 0 && ordinal === this.smallestLeft()) {
      this.handed.add(ordinal);
      return Promise.resolve();
    }
    return new Promise((go) => this.replayed.push({ ordinal, go }));
  }

  private smallestLeft(): number | undefined {
    while (this.handedOver < this.inHistory.length && this.handed.has(this.inHistory[this.handedOver]))
      this.handedOver++;
    return this.inHistory[this.handedOver];
  }

  /** The ordinal of the next result that happens now; record it with the result. */
  assign(): number {
    return this.nextAssigned++;
  }

  /** Waits for the turn of a result that happened now, under the ordinal it was assigned. */
  live(ordinal: number): Promise<void> {
    return new Promise((go) => {
      this.liveReady.set(ordinal, go);
      this.release();
    });
  }

  /** An ordinal that was assigned but whose operation produced no result (a signal wait that found none). */
  skip(ordinal: number): void {
    this.skipped.add(ordinal);
    this.release();
  }

  /** Hands over live results in ordinal order, the first at once and the others one per turn. */
  private release(): void {
    if (this.replayed.length > 0 || !this.caughtUp) return this.schedule();
    while (this.skipped.delete(this.nextLive)) this.nextLive++;
    const go = this.liveReady.get(this.nextLive);
    if (!go) return;
    this.liveReady.delete(this.nextLive++);
    go();
    if (this.liveReady.size > 0 || this.skipped.size > 0) this.schedule();
  }

  private schedule(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.turn();
    });
  }

  private turn(): void {
    if (this.replayed.length > 0) {
      let first = 0;
      for (let i = 1; i < this.replayed.length; i++)
        if (this.replayed[i].ordinal < this.replayed[first].ordinal) first = i;
      const next = this.replayed.splice(first, 1)[0];
      this.handed.add(next.ordinal);
      next.go();
      // The code runs on what it got before the next result, recorded or live, is considered.
      return this.schedule();
    }
    this.caughtUp = true;
    this.release();
  }
}
