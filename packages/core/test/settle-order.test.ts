// The order a workflow run hands results to its code (src/workflow/settle-order.ts), alone.
import { describe, it, expect } from 'vitest';
import { SettleOrder } from '../src/workflow/settle-order.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('SettleOrder', () => {
  it('hands recorded results over smallest ordinal first, whatever order they are asked in', async () => {
    const order = new SettleOrder([0, 1, 2]);
    const got: string[] = [];
    // Asked together, as by Promise.race([c, b, a]) over operations recorded as a=0, b=1, c=2.
    await Promise.all([
      order.recorded(2).then(() => got.push('c')),
      order.recorded(1).then(() => got.push('b')),
      order.recorded(0).then(() => got.push('a')),
    ]);
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('lets the code run between two recorded results: one per turn of the event loop', async () => {
    const order = new SettleOrder([0, 1]);
    const seen: string[] = [];
    const a = order.recorded(1).then(() => seen.push('second'));
    const b = order.recorded(0).then(() => {
      seen.push('first');
      // What the code does on the first result happens before the second arrives.
      queueMicrotask(() => seen.push('continuation of first'));
    });
    await Promise.all([a, b]);
    expect(seen).toEqual(['first', 'continuation of first', 'second']);
  });

  it('hands the smallest ordinal left over at once, so a replay awaited step by step pays no turn', async () => {
    const order = new SettleOrder([0, 1, 2]);
    let settled = 0;
    void order.recorded(0).then(() => settled++);
    await Promise.resolve();
    expect(settled).toBe(1);
    void order.recorded(1).then(() => settled++);
    await Promise.resolve();
    expect(settled).toBe(2);
  });

  it('holds a live result until the recorded ones the code asks for are handed over', async () => {
    const order = new SettleOrder([0, 1]);
    const got: string[] = [];
    const live = order.assign();
    expect(live).toBe(2);
    const l = order.live(live).then(() => got.push('live'));
    const r1 = order.recorded(1).then(() => got.push('recorded 1'));
    const r0 = order.recorded(0).then(() => got.push('recorded 0'));
    await Promise.all([l, r0, r1]);
    expect(got).toEqual(['recorded 0', 'recorded 1', 'live']);
  });

  it('hands live results over in the order they were assigned, skipping the ones that produced nothing', async () => {
    const order = new SettleOrder([]);
    const [a, b, c] = [order.assign(), order.assign(), order.assign()];
    const got: string[] = [];
    const pc = order.live(c).then(() => got.push('c'));
    const pa = order.live(a).then(() => got.push('a'));
    order.skip(b);
    await Promise.all([pa, pc]);
    expect(got).toEqual(['a', 'c']);
    // A fresh run's result with nothing ahead of it goes at once.
    let now = false;
    void order.live(order.assign()).then(() => (now = true));
    await Promise.resolve();
    expect(now).toBe(true);
    await turn();
  });

  it('treats history written before ordinals as having none: it goes in the order asked', async () => {
    const order = new SettleOrder([]);
    let done = false;
    void order.recorded(null).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(true);
  });
});
