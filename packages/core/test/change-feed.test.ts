// The change feed on both backends: its triggers run only while someone listens, every insert and
// status change of an execution arrives once, and a dead listener's registration does not keep the
// triggers on for ever.
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChangeFeed,
  Client,
  Worker,
  defineWorkflow,
  defineJob,
  parseChanges,
  type ExecutionChange,
  type Store,
} from '../src/index.js';
import { backends, quietLogger } from './backends.js';

const flow = defineWorkflow('feed.flow', {}, async () => 'done');
const add = defineJob('feed.add', {}, async (input: { a: number; b: number }) => input.a + input.b);

/** The feed's triggers on baton.executions: there only while the feed is on. */
async function feedTriggers(store: Store): Promise<string[]> {
  const rows = await store.driver.query<{ tgname: string }>(
    `SELECT tgname FROM pg_trigger WHERE tgrelid = 'baton.executions'::regclass
     AND tgname LIKE '%_feed' ORDER BY tgname`,
  );
  return rows.map((r) => r.tgname);
}
const ON = ['executions_inserted_feed', 'executions_removed_feed', 'executions_updated_feed'];

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('parseChanges', () => {
  it('reads one change per line and skips lines that do not parse', () => {
    expect(
      parseChanges(
        [
          '["a1","queued","job","default","send"]',
          'bad line',
          '["b2","done","job","q","n"]',
          '["c\\nx","failed","workflow","q","flow"]',
          '["d4","queued","job","q"]',
        ].join('\n'),
      ),
    ).toEqual([
      { id: 'a1', status: 'queued', kind: 'job', queue: 'default', name: 'send' },
      { id: 'c\nx', status: 'failed', kind: 'workflow', queue: 'q', name: 'flow' },
    ]);
  });
});

describe.each(backends())('change feed on $name', (backend) => {
  const opened: Store[] = [];
  const feeds: ChangeFeed[] = [];
  afterEach(async () => {
    for (const f of feeds.splice(0)) if (f.running) await f.stop();
    for (const s of opened.splice(0)) await s.close();
  });

  async function open(): Promise<Store> {
    const store = await backend.open();
    opened.push(store);
    return store;
  }

  it('is off until a listener starts it, and reports each insert and status change once', async () => {
    const store = await open();
    expect(await feedTriggers(store)).toEqual([]);
    const feed = new ChangeFeed(store.driver, quietLogger());
    feeds.push(feed);
    const seen: ExecutionChange[] = [];
    await feed.start(
      (c) => seen.push(...c),
      () => undefined,
    );
    expect(await feedTriggers(store)).toEqual(ON);

    const client = new Client(store);
    const worker = new Worker(store, { jobs: [add], pollInterval: 50 });
    await worker.start();
    try {
      const handles = await client.enqueueMany(
        add,
        Array.from({ length: 40 }, (_, i) => ({ input: { a: i, b: 1 } })),
      );
      const ids = new Set(handles.map((h) => h.id));
      await until(() => seen.filter((c) => c.status === 'completed').length === 40);
      const mine = seen.filter((c) => ids.has(c.id));
      // Inserted queued, claimed, completed: three changes each, in that order per execution.
      for (const id of ids)
        expect(mine.filter((c) => c.id === id).map((c) => c.status)).toEqual([
          'queued',
          'running',
          'completed',
        ]);
      expect(mine[0]).toMatchObject({ kind: 'job', queue: 'default', name: 'feed.add' });
    } finally {
      await worker.stop({ deadline: '5s' });
    }

    await feed.stop();
    expect(await feedTriggers(store)).toEqual([]);
    const before = seen.length;
    await client.enqueue(add, { a: 1, b: 2 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(before);
  });

  it('reports a job its completion removed as completed, and nothing for rows that pruning deletes', async () => {
    const store = await open();
    const client = new Client(store);
    // One completed the usual way first, to be pruned below.
    const kept = new Worker(store, { jobs: [add], pollInterval: 50 });
    await kept.start();
    const old = await client.enqueue(add, { a: 0, b: 0 });
    await client.waitFor(old.id);
    await kept.stop({ deadline: '5s' });

    const feed = new ChangeFeed(store.driver, quietLogger());
    feeds.push(feed);
    const seen: ExecutionChange[] = [];
    await feed.start(
      (c) => seen.push(...c),
      () => undefined,
    );
    // Pruning the one kept deletes a finished row: no change of status, so nothing is reported.
    expect(await client.prune({ completed: 0 })).toBe(1);
    const worker = new Worker(store, { jobs: [add], pollInterval: 50, removeOnComplete: true });
    await worker.start();
    try {
      const handles = await client.enqueueMany(
        add,
        Array.from({ length: 12 }, (_, i) => ({ input: { a: i, b: 1 } })),
      );
      const ids = new Set(handles.map((h) => h.id));
      await until(() => seen.filter((c) => ids.has(c.id) && c.status === 'completed').length === 12);
      for (const id of ids)
        expect(seen.filter((c) => c.id === id).map((c) => c.status)).toEqual([
          'queued',
          'running',
          'completed',
        ]);
      expect(await client.list({ name: 'feed.add' })).toEqual([]);
      expect(seen.filter((c) => c.id === old.id)).toEqual([]);
    } finally {
      await worker.stop({ deadline: '5s' });
    }
  });

  it('sends big statements in chunks that each fit a NOTIFY', async () => {
    const store = await open();
    const feed = new ChangeFeed(store.driver, quietLogger());
    feeds.push(feed);
    const seen: ExecutionChange[] = [];
    let batches = 0;
    await feed.start(
      (c) => {
        batches++;
        seen.push(...c);
      },
      () => undefined,
    );
    const name = 'feed.add';
    await new Client(store).enqueueMany(
      add,
      Array.from({ length: 1000 }, (_, i) => ({ input: { a: i, b: i } })),
    );
    await until(() => seen.length === 1000);
    expect(batches).toBeGreaterThan(1);
    expect(new Set(seen.map((c) => c.id)).size).toBe(1000);
    expect(seen.every((c) => c.name === name && c.status === 'queued')).toBe(true);
  });

  it('carries ids of any content, at their longest, many in one statement: newlines, tabs, control characters', async () => {
    const store = await open();
    const feed = new ChangeFeed(store.driver, quietLogger());
    feeds.push(feed);
    const seen: ExecutionChange[] = [];
    await feed.start(
      (c) => seen.push(...c),
      () => undefined,
    );
    // Workflow ids are the longest a user gives (200 characters); escaped, each line is ~1,100 bytes.
    const ids = Array.from(
      { length: 20 },
      (_, i) => `${String(i).padStart(2, '0')}\n\t"${'\u0001'.repeat(195)}`,
    );
    await new Client(store).startMany(
      flow,
      ids.map((id) => ({ input: {}, id })),
    );
    await until(() => seen.length === ids.length);
    expect(seen.map((c) => c.id).sort()).toEqual([...ids].sort());
  });

  it('stays on while another listener remains, and drops a dead listener whose heartbeat went stale', async () => {
    const store = await open();
    const a = new ChangeFeed(store.driver, quietLogger());
    const b = new ChangeFeed(store.driver, quietLogger(), { staleMs: 200 });
    feeds.push(a, b);
    await a.start(
      () => undefined,
      () => undefined,
    );
    await b.start(
      () => undefined,
      () => undefined,
    );
    await a.stop();
    expect(await feedTriggers(store)).toEqual(ON);
    // A process that died while listening: its row stays, its heartbeat does not move.
    await store.driver.query(
      `INSERT INTO baton.feed_listeners (id, heartbeat_at) VALUES ('dead', now() - interval '1 hour')`,
    );
    await b.stop();
    expect(await feedTriggers(store)).toEqual([]);
    expect(await store.driver.query('SELECT id FROM baton.feed_listeners')).toEqual([]);
  });

  it("adds a component's triggers while it listens, and the last to leave drops them whoever made them", async () => {
    const store = await open();
    await store.driver.query('CREATE TABLE baton.feed_probe (id int)');
    const extra = {
      name: 'feed_probe_inserted_feed',
      table: 'feed_probe',
      definition:
        'AFTER INSERT ON baton.feed_probe FOR EACH STATEMENT EXECUTE FUNCTION baton.publish_execution_changes()',
    };
    const probes = async () =>
      (
        await store.driver.query<{ tgname: string }>(
          "SELECT tgname FROM pg_trigger WHERE tgrelid = 'baton.feed_probe'::regclass",
        )
      ).map((r) => r.tgname);
    const withProbe = new ChangeFeed(store.driver, quietLogger(), { triggers: [extra] });
    const plain = new ChangeFeed(store.driver, quietLogger());
    feeds.push(withProbe, plain);
    await plain.start(
      () => undefined,
      () => undefined,
    );
    expect(await probes()).toEqual([]);
    await withProbe.start(
      () => undefined,
      () => undefined,
    );
    expect(await probes()).toEqual(['feed_probe_inserted_feed']);
    await withProbe.stop();
    expect(await probes()).toEqual(['feed_probe_inserted_feed']);
    await plain.stop();
    expect(await probes()).toEqual([]);
    expect(await feedTriggers(store)).toEqual([]);
    expect(
      () => new ChangeFeed(store.driver, quietLogger(), { triggers: [{ ...extra, name: 'x; DROP' }] }),
    ).toThrow(/end in _feed/);
  });

  it('lets processes start and stop at the same moment without a deadlock', async () => {
    const store = await open();
    const many = Array.from({ length: 4 }, () => new ChangeFeed(store.driver, quietLogger()));
    feeds.push(...many);
    await Promise.all(
      many.map((f) =>
        f.start(
          () => undefined,
          () => undefined,
        ),
      ),
    );
    expect(await feedTriggers(store)).toEqual(ON);
    await Promise.all(many.map((f) => f.stop()));
    expect(await feedTriggers(store)).toEqual([]);
  });

  it('re-registers and reports a gap when its registration lapsed', async () => {
    const store = await open();
    const feed = new ChangeFeed(store.driver, quietLogger(), { heartbeatMs: 50 });
    feeds.push(feed);
    let gaps = 0;
    await feed.start(
      () => undefined,
      () => gaps++,
    );
    // Another process judged this one dead (as after a long pause) and turned the feed off.
    await store.driver.transaction(async (tx) => {
      await tx.query('DELETE FROM baton.feed_listeners');
      for (const t of ON) await tx.query(`DROP TRIGGER ${t} ON baton.executions`);
    });
    await until(() => gaps > 0);
    expect(await feedTriggers(store)).toEqual(ON);
    expect(await store.driver.query('SELECT id FROM baton.feed_listeners')).toEqual([{ id: feed.id }]);
  });
});
