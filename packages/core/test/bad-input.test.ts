import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { backends, quietLogger } from './backends.js';
import {
  BatonError,
  Client,
  Store,
  Worker,
  defineJob,
  defineSchedule,
  migrate,
  loadMigrations,
  parseDatabaseUrl,
  type Execution,
} from '../src/index.js';

const job = defineJob('bad-input-target', { queue: 'bad' }, async (input: unknown) => input);

for (const b of backends()) {
  describe(`bad input (${b.name})`, () => {
    let store: Store;
    let client: Client;
    let before: Execution[];
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
      await client.enqueueMany(job, [{ input: { keep: 1 } }, { input: { keep: 2 } }]);
      before = await client.list({ name: job.name });
    });
    afterAll(async () => {
      // Nothing that was stored before the bad calls was lost or changed.
      const ids = new Set(before.map((e) => e.id));
      expect((await client.list({ name: job.name })).filter((e) => ids.has(e.id))).toEqual(before);
      await store.close();
    });

    const notJson: [string, unknown, RegExp][] = [
      ['a function', { f: () => 1 }, /\$\.f is a function/],
      ['undefined inside', { a: undefined }, /\$\.a is undefined/],
      ['a bigint', { n: 10n }, /\$\.n is a bigint/],
      ['NaN', [1, NaN], /\$\[1\] is NaN/],
      ['Infinity', { x: Infinity }, /\$\.x is Infinity/],
      ['a Date', { when: new Date() }, /\$\.when is a Date/],
      ['a Map', new Map(), /\$ is a Map/],
      ['a symbol', Symbol('s'), /\$ is a symbol/],
      // PostgreSQL stores neither; the driver would even replace a lone surrogate silently.
      ['a NUL character', { s: 'a\u0000b' }, /\$\.s contains a NUL character/],
      ['a lone surrogate', ['ok', 'x\ud800'], /\$\[1\] contains a lone UTF-16 surrogate/],
      ['a NUL in a key', { 'k\u0000': 1 }, /the key "k\\u0000" of \$ contains a NUL/],
    ];
    for (const [what, input, message] of notJson) {
      it(`refuses an input that is not JSON: ${what}`, async () => {
        const err = await client.enqueue(job, input).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BatonError);
        expect(err).toMatchObject({ code: 'E_NOT_JSON' });
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).toMatch(/input of job 'bad-input-target'/);
      });
    }

    it('tells a worker on a store that was never migrated to run `baton migrate`', async () => {
      const empty = await b.openEmpty();
      try {
        const w = new Worker(empty, { jobs: [defineJob('unmigrated', {}, async () => null)] });
        const err = await w.start().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'E_INVALID_STATE' });
        expect((err as Error).message).toMatch(
          /is at schema version 0, this Baton needs \d+; run `baton migrate`/,
        );
      } finally {
        await empty.close();
      }
    });

    it('refuses ids and keys PostgreSQL cannot store, naming them', async () => {
      for (const bad of ['a\u0000b', 'x\udc00', '', 'x'.repeat(1001)]) {
        for (const call of [
          () => client.get(bad),
          () => client.cancel(bad),
          () => client.retry(bad),
          () => client.describe(bad),
          () => client.signal(bad, 'go'),
        ]) {
          await expect(call()).rejects.toMatchObject({
            code: 'E_INVALID_OPTION',
            message: /execution id|workflow id/,
          });
        }
      }
      await expect(client.enqueue(job, 1, { idempotencyKey: 'k\u0000' })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: /idempotencyKey contains a NUL character/,
      });
      await expect(client.enqueue(job, 1, { concurrencyKey: 'k\ud800' })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: /concurrencyKey contains a lone UTF-16 surrogate/,
      });
      await expect(client.get(42 as unknown as string)).rejects.toMatchObject({
        message: /execution id must be a string of 1 to 1000 characters, got number/,
      });
    });

    it('refuses list filters PostgreSQL cannot compare, naming the filter, instead of failing the query', async () => {
      for (const field of ['name', 'queue', 'parentId', 'before', 'search'] as const) {
        for (const [bad, problem] of [
          ['a\u0000b', /contains a NUL character/],
          ['x\udc00', /contains a lone UTF-16 surrogate/],
        ] as const) {
          const err = await client.list({ [field]: bad }).catch((e: unknown) => e);
          expect(err, field).toMatchObject({ code: 'E_INVALID_OPTION' });
          expect((err as Error).message, field).toMatch(new RegExp(`^list ${field}`));
          expect((err as Error).message, field).toMatch(problem);
          await expect(client.listSummaries({ [field]: bad })).rejects.toMatchObject({
            code: 'E_INVALID_OPTION',
          });
        }
      }
      // The store still answers.
      expect(Array.isArray(await client.list({ name: job.name }))).toBe(true);
    });

    it('refuses a circular input and names the item of a batch', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(client.enqueue(job, cyclic)).rejects.toThrow(/circular/);
      const err = await client.enqueueMany(job, [{ input: 1 }, { input: () => 2 }]).catch((e: Error) => e);
      expect((err as Error).message).toMatch(/item 1/);
    });

    it('refuses an unknown job name and suggests the nearest', async () => {
      const w = new Worker(store, { jobs: [job] });
      await w.start();
      await w.stop();
      const err = await client.enqueue('bad-input-targt', {}).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_UNKNOWN_JOB' });
      expect((err as Error).message).toMatch(/did you mean 'bad-input-target'/);
      // By name, once a worker has registered it, it works.
      expect((await client.enqueue('bad-input-target', { byName: true })).created).toBe(true);
    });

    it('refuses a worker whose batch delays are not durations, naming the option', () => {
      expect(() => new Worker(store, { jobs: [job], claimBatchDelay: 'soon' })).toThrow(
        /claimBatchDelay: 'soon' is not a duration/,
      );
      expect(() => new Worker(store, { jobs: [job], claimBatchDelay: -1 })).toThrow(/claimBatchDelay/);
      expect(() => new Worker(store, { jobs: [job], completionBatchDelay: '5 parsecs' })).toThrow(
        /completionBatchDelay: '5 parsecs' is not a duration/,
      );
    });

    it('refuses negative delays, bad dates and bad options', async () => {
      await expect(client.enqueue(job, 1, { delay: -5 })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
      await expect(client.enqueue(job, 1, { delay: '-5s' })).rejects.toThrow(/not a duration/);
      await expect(client.enqueue(job, 1, { delay: 'soon' })).rejects.toThrow(/not a duration/);
      await expect(client.enqueue(job, 1, { runAt: new Date('nope') })).rejects.toThrow(/valid Date/);
      await expect(client.enqueue(job, 1, { priority: 1.5 })).rejects.toThrow(/priority must be an integer/);
      await expect(client.enqueue(job, 1, { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
      await expect(client.enqueue(job, 1, { queue: 'has space' })).rejects.toThrow(
        /queue "has space" is not valid/,
      );
      await expect(client.enqueue(job, 1, { concurrencyLimit: 2 })).rejects.toThrow(/needs a concurrencyKey/);
      await expect(client.configureQueue('q', { concurrency: 0 })).rejects.toThrow(
        /concurrency .* must be an integer from 1 to/,
      );
    });

    it('refuses an invalid cron expression with a clear error', () => {
      for (const cron of ['61 * * * *', 'every day', '* * *', '']) {
        let err: unknown;
        try {
          defineSchedule('nightly', { cron, job });
        } catch (e) {
          err = e;
        }
        expect(err).toMatchObject({ code: 'E_INVALID_CRON' });
        expect((err as Error).message).toMatch(/schedule 'nightly'/);
      }
    });

    it('fails a job whose result is not JSON, without retrying it', async () => {
      const returnsDate = defineJob(
        'returns-date',
        { queue: 'bad', retry: { maxAttempts: 3 } },
        async () => ({ at: new Date() }),
      );
      const w = new Worker(store, { jobs: [returnsDate], pollInterval: 50 });
      await w.start();
      const e = await client.waitFor((await client.enqueue(returnsDate, null)).id);
      await w.stop();
      expect(e.status).toBe('failed');
      expect(e.attempts).toBe(1);
      expect(e.error?.message).toMatch(
        /result of job 'returns-date' is not JSON-serializable: \$\.at is a Date/,
      );
    });

    it('refuses a database whose schema is newer than the code, and leaves it alone', async () => {
      const migrations = loadMigrations();
      const future = [
        ...migrations,
        { version: 9999, name: 'future', sql: 'CREATE TABLE baton.future_table (x int)' },
      ];
      expect(await migrate(store.driver, future)).toEqual([9999]);
      const err = await store.migrate().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_SCHEMA_TOO_NEW' });
      expect((err as Error).message).toMatch(/version 9999/);
      await expect(store.checkSchema()).rejects.toMatchObject({ code: 'E_SCHEMA_TOO_NEW' });
      await expect(new Worker(store, { jobs: [job] }).start()).rejects.toMatchObject({
        code: 'E_SCHEMA_TOO_NEW',
      });
      await store.driver.query('DELETE FROM baton.migrations WHERE version = 9999');
      await store.driver.query('DROP TABLE baton.future_table');
    });

    it('migrates concurrently without errors, exactly once', async () => {
      const results = await Promise.all([store.migrate(), store.migrate(), store.migrate()]);
      expect(results.flat()).toEqual([]);
    });
  });
}

describe('database URLs', () => {
  it('refuses malformed URLs before connecting', async () => {
    for (const url of ['not a url', 'mysql://root@localhost/db', 'postgres://user:secret@:99x/db']) {
      const err = await Store.open({ databaseUrl: url, logger: quietLogger() }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_DATABASE_URL' });
      expect((err as Error).message).not.toMatch(/secret/);
    }
    expect(parseDatabaseUrl('postgres://u@localhost:5432/db').hostname).toBe('localhost');
  });

  it('says clearly when the server cannot be reached', async () => {
    const err = await Store.open({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
      logger: quietLogger(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_DATABASE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none/,
    );
  });
});

describe('embedded data directory', () => {
  it('is locked while open: a second open waits for a holder that does not serve, then says so clearly', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'baton-lock-')), 'db');
    const first = await Store.open({ dataDir: dir, logger: quietLogger(), serve: false });
    const err = await Store.open({ dataDir: dir, logger: quietLogger(), waitForHolder: '300ms' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E_DATABASE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /is open in process \d+ \(this one\), and it does not serve other processes\. Stop that process/,
    );
    // A holder that lets go while another open waits hands the store over.
    const waiting = Store.open({ dataDir: dir, logger: quietLogger(), waitForHolder: '10s' });
    await new Promise((r) => setTimeout(r, 100));
    await first.close();
    const again = await waiting;
    expect(again.location).toBe(`PGlite at ${dir}`);
    await again.close();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'baton-lock-')), 'db');
    writeFileSync(`${dir}.lock`, '2147483646');
    const store = await Store.open({ dataDir: dir, logger: quietLogger() });
    await store.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});
