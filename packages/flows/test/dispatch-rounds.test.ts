// The dispatcher's rounds over a simulated queue: which passes a round runs and where each starts.
// The passes themselves are tested on a real store in architect-tasks.test.ts.
import { describe, expect, it } from 'vitest';
import { DispatchRounds } from '../src/architect/dispatch-rounds.js';
import type { DispatchPass, ServiceCursor } from '../src/architect/store/dispatch.js';

/** A queue of pending tasks in service order; `placeable` ones a session with room would take. */
class SimulatedQueue {
  readonly pending: { key: number; id: string; placeable: boolean }[];
  /** Every pass run: where it started (null: the head) and how many tasks it read. */
  readonly passes: { from: ServiceCursor | null; read: number }[] = [];

  constructor(
    placeableAt: number[],
    size: number,
    private readonly limit: number,
    /** Tasks sessions may still take. */
    public room: number,
  ) {
    this.pending = Array.from({ length: size }, (_, i) => ({
      key: i,
      id: `t${String(i).padStart(5, '0')}`,
      placeable: placeableAt.includes(i),
    }));
  }

  /** Runs before each pass: another process may take the room meanwhile. */
  beforePass: () => void = () => {};

  readonly pass = async (after?: ServiceCursor): Promise<DispatchPass> => {
    this.beforePass();
    const start = after ? this.pending.findIndex((t) => t.key > after[0]) : 0;
    const page = start < 0 ? [] : this.pending.slice(start, start + this.limit);
    this.passes.push({ from: after ?? null, read: page.length });
    const placed = [];
    let lastRouted: ServiceCursor | null = null;
    for (const t of page) {
      if (this.room === 0) break;
      lastRouted = [t.key, t.id];
      if (t.placeable) {
        placed.push(t);
        this.room--;
      }
    }
    for (const t of placed) this.pending.splice(this.pending.indexOf(t), 1);
    return {
      assignments: placed.map((t) => ({ task: t.id, session: 'w', attempt: 1 })),
      stopped: this.room === 0 ? 'no_room' : page.length === this.limit ? 'limit' : 'end',
      lastRouted,
    };
  };

  /** A task sent now: it goes to the tail. */
  add(key: number, placeable: boolean): void {
    this.pending.push({ key, id: `t${String(key).padStart(5, '0')}`, placeable });
  }

  isPending(key: number): boolean {
    return this.pending.some((t) => t.key === key);
  }
}

describe('dispatcher rounds', () => {
  it('reach a task behind many that cannot be placed, reading at most two passes a round', async () => {
    const queue = new SimulatedQueue([1050], 1100, 100, 5);
    const rounds = new DispatchRounds(queue.pass);
    let n = 0;
    while (queue.isPending(1050)) {
      const before = queue.passes.length;
      await rounds.round();
      n++;
      const read = queue.passes.slice(before).reduce((sum, p) => sum + p.read, 0);
      expect(read).toBeLessThanOrEqual(200);
      expect(n).toBeLessThan(20);
    }
    // round 1 looks at 100–199, round 2 at 200–299, …, round 10 at 1000–1099
    expect(n).toBe(10);
    // every round begins at the head, so a better task arriving there is served first
    expect(queue.passes.filter((p) => p.from === null)).toHaveLength(10);
  });

  it('go on at once from where a pass stopped while passes place tasks', async () => {
    const queue = new SimulatedQueue([10, 150, 250, 350], 400, 100, 10);
    const rounds = new DispatchRounds(queue.pass);
    await rounds.round();
    expect(queue.pending.filter((t) => t.placeable)).toEqual([]);
    expect(queue.passes.map((p) => p.from?.[0] ?? null)).toEqual([null, 99, 199, 299, 399]);
  });

  it('stop when no session has room, pick up after the task that filled it, and start over at the end', async () => {
    const queue = new SimulatedQueue([250], 300, 100, 1);
    const rounds = new DispatchRounds(queue.pass);
    await rounds.round(); // head, then 100–199: nothing; the look stops at 199
    expect(queue.passes.map((p) => p.from?.[0] ?? null)).toEqual([null, 99]);
    await rounds.round(); // head, then from 199: places 250 and fills the only room
    expect(queue.passes.slice(2).map((p) => p.from?.[0] ?? null)).toEqual([null, 199]);
    expect(queue.isPending(250)).toBe(false);
    // no room left: one pass
    await rounds.round();
    expect(queue.passes.slice(4)).toEqual([{ from: null, read: 100 }]);
    // room again: the look picks up after 250, reaches the end, and the next starts over
    queue.room = 1;
    await rounds.round();
    expect(queue.passes.slice(5).map((p) => p.from?.[0] ?? null)).toEqual([null, 250]);
    expect(queue.passes.at(-1)!.read).toBe(49);
    await rounds.round();
    expect(queue.passes.slice(7).map((p) => p.from?.[0] ?? null)).toEqual([null, 99]);
  });

  it('after a look that filled the last room, the next looks on from the task it placed', async () => {
    const wanted = Array.from({ length: 10 }, (_, i) => 1000 + i);
    const queue = new SimulatedQueue(wanted, 1100, 100, 1);
    const rounds = new DispatchRounds(queue.pass);
    const placedIn: number[] = [];
    for (let n = 1; n <= 40 && queue.pending.some((t) => t.placeable); n++) {
      queue.room = 1; // the session finished its task
      const before = queue.passes.length;
      await rounds.round();
      if (queue.pending.filter((t) => t.placeable).length < wanted.length - placedIn.length) placedIn.push(n);
      expect(queue.passes.slice(before).reduce((sum, p) => sum + p.read, 0)).toBeLessThanOrEqual(200);
    }
    // the look reaches 1000 in round 10, and then places one task a round (a look that started
    // over after the room filled would take ten rounds for each)
    expect(placedIn).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('a look that keeps filling the room at the tail starts over now and then, and reaches a task it passed', async () => {
    const queue = new SimulatedQueue([], 1000, 100, 1);
    const rounds = new DispatchRounds(queue.pass);
    await rounds.round(); // the look passes 100–199, none of which can be placed yet
    queue.pending.find((t) => t.key === 150)!.placeable = true;
    // every round a session frees one place and a task it can take arrives at the tail
    let n = 0;
    while (queue.isPending(150) && n < 60) {
      n++;
      queue.add(1000 + n, true);
      queue.room = 1;
      await rounds.round();
    }
    // rounds 1–8 walk the look to the tail, 9–18 pick up there (the tenth starts the look
    // over), and round 19's look, from the head's end, reaches 150
    expect(n).toBe(19);
  });

  it('a look that found the room gone before it routed anything starts there again', async () => {
    const queue = new SimulatedQueue([], 1000, 100, 1);
    const rounds = new DispatchRounds(queue.pass);
    await rounds.round(); // the look stops at 199
    queue.beforePass = () => {
      if (queue.passes.length === 3) queue.room = 0; // taken between the head pass and the look
    };
    await rounds.round();
    expect(queue.passes.slice(2)).toEqual([
      { from: null, read: 100 },
      { from: [199, 't00199'], read: 100 },
    ]);
    queue.room = 1;
    await rounds.round();
    expect(queue.passes.slice(4).map((p) => p.from?.[0] ?? null)).toEqual([null, 199]);
  });

  it('a look never goes back behind where the round has already read', async () => {
    const queue = new SimulatedQueue([], 1000, 100, 5);
    const rounds = new DispatchRounds(queue.pass);
    await rounds.round(); // head, then the look to 199
    for (const t of queue.pending) if ([50, 150, 250].includes(t.key)) t.placeable = true;
    // the head places 50, and passes go on placing 150 and 250 to 399 before one places nothing:
    // the look starts there, not back at 199
    await rounds.round();
    expect(queue.passes.slice(2).map((p) => p.from?.[0] ?? null)).toEqual([null, 99, 199, 299, 399]);
  });

  it('a round that finds the queue short runs one pass', async () => {
    const queue = new SimulatedQueue([], 30, 100, 3);
    await new DispatchRounds(queue.pass).round();
    expect(queue.passes).toEqual([{ from: null, read: 30 }]);
  });

  it('stop between passes once the control plane stops', async () => {
    const queue = new SimulatedQueue([], 1000, 100, 3);
    await new DispatchRounds(queue.pass).round(() => true);
    expect(queue.passes).toHaveLength(1);
  });
});
