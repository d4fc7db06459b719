// The hub's own logic, with a scripted change source: replay within the window, resets outside it,
// filters, and the feed turned off only after the last subscriber has been gone a while.
import { describe, expect, it } from 'vitest';
import type { ExecutionChange } from '@baton/core';
import type { Change } from '../src/index.js';
import { EventHub, type ChangeSource, type FeedEvent } from '../src/index.js';

class ScriptedSource implements ChangeSource {
  starts = 0;
  stops = 0;
  emit: (changes: Change[]) => void = () => undefined;
  gap: () => void = () => undefined;
  async start(onChanges: (c: Change[]) => void, onGap: () => void): Promise<void> {
    this.starts++;
    this.emit = onChanges;
    this.gap = onGap;
  }
  async stop(): Promise<void> {
    this.stops++;
  }
}

const change = (id: string, status: ExecutionChange['status'] = 'queued', name = 'n'): Change => ({
  type: 'execution',
  id,
  status,
  kind: 'job',
  queue: 'default',
  name,
});

function recorder() {
  const got: FeedEvent[] = [];
  const resets: string[] = [];
  return {
    got,
    resets,
    sub: (filter = {}) => ({
      filter,
      deliver: (e: FeedEvent[]) => got.push(...e),
      reset: (r: string) => resets.push(r),
    }),
  };
}

describe('EventHub', () => {
  it('starts the feed once for many subscribers and delivers by filter', async () => {
    const source = new ScriptedSource();
    const hub = new EventHub(source);
    const all = recorder();
    const failed = recorder();
    await hub.subscribe(all.sub());
    await hub.subscribe(failed.sub({ status: new Set(['failed']) }));
    expect(source.starts).toBe(1);
    source.emit([change('a'), change('a', 'failed'), change('b', 'completed')]);
    expect(all.got.map((e) => `${e.data.id}:${e.data.status}`)).toEqual([
      'a:queued',
      'a:failed',
      'b:completed',
    ]);
    expect(failed.got.map((e) => e.data.id)).toEqual(['a']);
    expect(all.got.map((e) => e.seq)).toEqual([1, 2, 3]);
    await hub.close();
  });

  it("sends the Architect's changes to those who ask for their types; execution filters mean executions only", async () => {
    const source = new ScriptedSource();
    const hub = new EventHub(source);
    const tasks = recorder();
    const jobs = recorder();
    const all = recorder();
    await hub.subscribe(tasks.sub({ types: new Set(['task']) }));
    await hub.subscribe(jobs.sub({ kind: new Set(['job']) }));
    await hub.subscribe(all.sub());
    source.emit([
      change('e1'),
      { type: 'task', id: 't1', status: 'pending', taskType: 'deploy' },
      { type: 'alert', id: '7', status: 'open' },
    ]);
    expect(tasks.got.map((e) => e.data.id)).toEqual(['t1']);
    expect(jobs.got.map((e) => e.data.id)).toEqual(['e1']);
    expect(all.got.map((e) => e.data.type)).toEqual(['execution', 'task', 'alert']);
    await hub.close();
  });

  it('replays after Last-Event-ID within the window, and resets outside it', async () => {
    const source = new ScriptedSource();
    const hub = new EventHub(source, { window: 5 });
    await hub.subscribe(recorder().sub());
    const start = hub.lastId;
    source.emit(['1', '2', '3'].map((id) => change(id)));
    const third = hub.lastId;
    source.emit(['4', '5'].map((id) => change(id)));

    const late = recorder();
    await hub.subscribe(late.sub(), third);
    expect(late.got.map((e) => e.data.id)).toEqual(['4', '5']);

    const fromStart = recorder();
    await hub.subscribe(fromStart.sub(), start);
    expect(fromStart.got.map((e) => e.data.id)).toEqual(['1', '2', '3', '4', '5']);

    // Two more push 1 and 2 out of the 5-event window: the start can no longer be replayed.
    source.emit(['6', '7'].map((id) => change(id)));
    const tooLate = recorder();
    await hub.subscribe(tooLate.sub(), start);
    expect(tooLate.got).toEqual([]);
    expect(tooLate.resets).toEqual(['the events after Last-Event-ID are no longer kept']);

    for (const bad of ['nonsense', 'abcdef0123-99', `${start.split('-')[0]}-999`]) {
      const r = recorder();
      await hub.subscribe(r.sub(), bad);
      expect(r.resets, bad).toHaveLength(1);
    }
    await hub.close();
  });

  it('after a gap, tells every subscriber to reload and refuses the old ids', async () => {
    const source = new ScriptedSource();
    const hub = new EventHub(source);
    const a = recorder();
    await hub.subscribe(a.sub());
    source.emit([change('1')]);
    const before = hub.lastId;
    source.gap();
    expect(a.resets).toHaveLength(1);
    const b = recorder();
    await hub.subscribe(b.sub(), before);
    expect(b.resets).toHaveLength(1);
    await hub.close();
  });

  it('keeps the feed on for the linger time after the last subscriber leaves', async () => {
    const source = new ScriptedSource();
    const hub = new EventHub(source, { lingerMs: 50 });
    const leave = await hub.subscribe(recorder().sub());
    leave();
    // Back within the linger: the same feed.
    const leaveAgain = await hub.subscribe(recorder().sub());
    expect(source.starts).toBe(1);
    const old = hub.lastId;
    leaveAgain();
    await new Promise((r) => setTimeout(r, 120));
    expect(source.stops).toBe(1);
    // Started again for the next subscriber, in a new epoch: what happened in between was not seen.
    const back = recorder();
    await hub.subscribe(back.sub(), old);
    expect(back.resets).toHaveLength(1);
    expect(source.starts).toBe(2);
    expect(hub.lastId.split('-')[0]).not.toBe(old.split('-')[0]);
    await hub.close();
  });

  it('starts again only after a stop in progress has finished', async () => {
    const source = new ScriptedSource();
    const order: string[] = [];
    let finishStop: () => void = () => undefined;
    const start = source.start.bind(source);
    source.start = async (c, g) => {
      order.push('start');
      return start(c, g);
    };
    source.stop = () => {
      order.push('stop begins');
      return new Promise<void>((resolve) => {
        finishStop = () => {
          order.push('stop ends');
          resolve();
        };
      });
    };
    const hub = new EventHub(source, { lingerMs: 10 });
    (await hub.subscribe(recorder().sub()))();
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['start', 'stop begins']);
    const back = hub.subscribe(recorder().sub());
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['start', 'stop begins']);
    finishStop();
    await back;
    expect(order).toEqual(['start', 'stop begins', 'stop ends', 'start']);
    source.stop = async () => undefined;
    await hub.close();
  });

  it('a feed that fails to start fails the subscription and is tried again by the next', async () => {
    const source = new ScriptedSource();
    let fail = true;
    const start = source.start.bind(source);
    source.start = async (c, g) => {
      if (fail) throw new Error('database down');
      return start(c, g);
    };
    const hub = new EventHub(source);
    await expect(hub.subscribe(recorder().sub())).rejects.toThrow('database down');
    expect(hub.size).toBe(0);
    fail = false;
    await hub.subscribe(recorder().sub());
    expect(source.starts).toBe(1);
    await hub.close();
  });
});
