// The embedded store served to other processes (src/driver/local-server.ts, remote.ts): what
// crosses the wire, who may connect, and what a client that dies or a holder that goes leaves.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, quietLogger } from './backends.js';
import { Client, Store, Worker, defineJob, defineWorkflow, isBatonError } from '../src/index.js';
import { decodeLine, encodeLine, LineReader } from '../src/driver/wire.js';
import { TRANSACTION_IDLE_MS } from '../src/driver/local-server.js';
import { isConnectionError } from '../src/driver/postgres.js';

const CHILD = fileURLToPath(new URL('./fixtures/remote-transaction.ts', import.meta.url));
const LOCK_RACE = fileURLToPath(new URL('./fixtures/lock-race.ts', import.meta.url));
const open: Store[] = [];

async function storeAt(dir: string, options: { serve?: boolean } = {}): Promise<Store> {
  const s = await Store.open({ dataDir: dir, logger: quietLogger(), ...options });
  open.push(s);
  return s;
}

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'baton-shared-')), 'db');

afterEach(async () => {
  for (const s of open.splice(0).reverse()) await s.close().catch(() => undefined);
});

describe('wire format', () => {
  it('carries dates, big integers, bytes, holes in arrays and non-finite numbers as they were', () => {
    const value = {
      at: new Date('2026-12-02T10:00:00.123Z'),
      n: 2n ** 70n,
      bytes: new Uint8Array([0, 1, 254, 255]),
      list: [1, undefined, 'x'],
      floats: [-Infinity, Infinity, Number.NaN, -0.5],
      nested: { deep: [{ when: new Date(0) }] },
      text: 'line\nbreak and a "quote"',
    };
    const line = encodeLine(value);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const back = decodeLine(line) as typeof value;
    expect(back.at).toEqual(value.at);
    expect(back.n).toBe(value.n);
    expect([...back.bytes]).toEqual([0, 1, 254, 255]);
    expect(back.list).toEqual([1, undefined, 'x']);
    expect(back.floats).toEqual([-Infinity, Infinity, Number.NaN, -0.5]);
    expect(back.nested.deep[0].when).toEqual(new Date(0));
    expect(back.text).toBe(value.text);
  });

  it('reads a character split between two chunks of the stream whole', () => {
    const line = encodeLine({ name: 'Zoë 東京 🎉' });
    const bytes = Buffer.from(line);
    const reader = new LineReader(1024);
    const cut = bytes.indexOf(Buffer.from('東')) + 1; // inside the three bytes of 東
    expect(reader.push(bytes.subarray(0, cut))).toEqual([]);
    const [whole] = reader.push(bytes.subarray(cut));
    expect(decodeLine(whole)).toEqual({ name: 'Zoë 東京 🎉' });
  });
});

describe('embedded store served to other processes', () => {
  it('gives a second open the same database through the holder, with types and error codes intact', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    await holder.migrate();
    const other = await storeAt(dir);
    expect(other.location).toMatch(/through process \d+, which holds it/);
    const job = defineJob('shared-job', { queue: 'shared' }, async () => null);
    const { id } = await new Client(other).enqueue(job, { a: 1 });
    const seen = await new Client(holder).get(id);
    expect(seen.input).toEqual({ a: 1 });
    const [row] = await other.driver.query<{ created_at: Date; n: number }>(
      'SELECT created_at, 41 + 1 AS n FROM baton.executions WHERE id = $1',
      [id],
    );
    expect(row.created_at).toBeInstanceOf(Date);
    expect(row.n).toBe(42);
    // an infinite float8 parameter (a keyset's start) reaches the holder as itself, not as null
    const [inf] = await other.driver.query<{ below: boolean; back: number }>(
      'SELECT $1::float8 < 0 AS below, $1::float8 AS back',
      [-Infinity],
    );
    expect(inf).toEqual({ below: true, back: -Infinity });
    // A unique violation keeps its SQLSTATE across the wire: start() turns it into its own message.
    const wf = defineWorkflow('shared-wf', { queue: 'shared' }, async () => null);
    const err = await new Client(other).start(wf, null, { id }).catch((e: unknown) => e);
    expect(isBatonError(err, 'E_INVALID_STATE')).toBe(true);
    expect((err as Error).message).toMatch(/already used by job 'shared-job'/);
    // A transaction through the holder commits or rolls back as a whole.
    await other.driver.transaction(async (tx) => {
      await tx.query(`UPDATE baton.executions SET priority = 7 WHERE id = $1`, [id]);
    });
    await expect(
      other.driver.transaction(async (tx) => {
        await tx.query(`UPDATE baton.executions SET priority = 9 WHERE id = $1`, [id]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await new Client(holder).get(id)).priority).toBe(7);
  });

  it('refuses a connection without the token, and keeps the token readable by this user only', async () => {
    const dir = freshDir();
    await storeAt(dir);
    const info = JSON.parse(readFileSync(`${dir}.serve`, 'utf8')) as { port: number; token: string };
    expect(info.token).toMatch(/^[0-9a-f]{64}$/);
    for (const first of [
      { id: 1, op: 'query', sql: 'SELECT 1' },
      { id: 1, op: 'hello', token: '0'.repeat(64) },
    ]) {
      const reply = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: info.port }, () => s.write(encodeLine(first)));
        let got = '';
        s.on('data', (d) => (got += d.toString()));
        s.on('close', () => resolve(got));
      });
      expect(reply).toMatch(/wrong or missing token/);
      expect(reply).not.toContain(info.token);
    }
  });

  it('rolls back the transaction of a client that dies in the middle of it, and the holder goes on', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    await holder.driver.query('CREATE TABLE remote_marks (k text PRIMARY KEY)');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c, sig) => r(sig ? -1 : c)));
    expect(out).toContain('inserted; dying');
    expect(code).toBe(-1);
    // The holder is not left waiting for the dead client's transaction.
    await eventually(
      async () => (await holder.driver.query('SELECT k FROM remote_marks')).length === 0,
      5000,
      'the dead client’s insert to be rolled back',
    );
    await holder.driver.query(`INSERT INTO remote_marks VALUES ('after')`);
    expect(await holder.driver.query('SELECT k FROM remote_marks')).toEqual([{ k: 'after' }]);
  });

  it('carries LISTEN and NOTIFY both ways, so a worker in another process is woken at once', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    await holder.migrate();
    const other = await storeAt(dir);
    const heard: string[] = [];
    const offRemote = await other.driver.listen('shared_channel', (p) => heard.push(`remote:${p}`));
    const offLocal = await holder.driver.listen('shared_channel', (p) => heard.push(`holder:${p}`));
    await holder.driver.notify('shared_channel', 'from-holder');
    await other.driver.notify('shared_channel', 'from-remote');
    await eventually(() => heard.length === 4, 5000, 'four notifications');
    expect(heard.sort()).toEqual(
      ['holder:from-holder', 'holder:from-remote', 'remote:from-holder', 'remote:from-remote'].sort(),
    );
    await offRemote();
    await offLocal();
    // A worker whose store goes through the holder, and a job enqueued by the holder.
    const ran: string[] = [];
    const job = defineJob('woken-remotely', { queue: 'woken' }, async (n: string) => void ran.push(n));
    const w = new Worker(other, { jobs: [job], pollInterval: 600_000 });
    await w.start();
    expect(w.listenWorks).toBe(true);
    const { id } = await new Client(holder).enqueue(job, 'one');
    expect((await new Client(holder).waitFor(id, { timeout: '10s' })).status).toBe('completed');
    expect(ran).toEqual(['one']);
    await w.stop();
  });

  it('fails calls in flight with a connection error when the holder goes, and reconnects to the next holder', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    await holder.migrate();
    const other = await storeAt(dir);
    await other.driver.query('SELECT 1');
    await holder.close();
    open.splice(open.indexOf(holder), 1);
    const err = await other.driver.query('SELECT 1').catch((e: unknown) => e);
    expect(isConnectionError(err)).toBe(true);
    expect((err as Error).message).toMatch(/the embedded store at .* (went away|now)/);
    await storeAt(dir);
    expect(await other.driver.query<{ n: number }>('SELECT 2 AS n')).toEqual([{ n: 2 }]);
  });

  it('rolls back a remote transaction that stalls, so the holder is not held up for longer than that', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    await holder.driver.query('CREATE TABLE stalled_marks (k text PRIMARY KEY)');
    const other = await storeAt(dir);
    let late: unknown;
    const stalled = other.driver
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO stalled_marks VALUES ('stalled')`);
        await new Promise((r) => setTimeout(r, TRANSACTION_IDLE_MS + 1000));
        await tx.query('SELECT 1');
      })
      .catch((e: unknown) => (late = e));
    await new Promise((r) => setTimeout(r, 200));
    // The holder's own statement waits for the stalled transaction until it is rolled back: had
    // the client been let finish, its insert would have been committed first.
    expect(await holder.driver.query('SELECT count(*)::int AS n FROM stalled_marks')).toEqual([{ n: 0 }]);
    await stalled;
    expect((late as Error).message).toMatch(/transaction \d+ is not open/);
  });

  it('refuses a statement too large for the local connection as a plain error, and the connection goes on', async () => {
    const dir = freshDir();
    await storeAt(dir);
    const other = await storeAt(dir);
    const huge = 'x'.repeat(65 * 1024 * 1024);
    const err = await other.driver.query('SELECT $1::text AS t', [huge]).catch((e: unknown) => e);
    expect(isBatonError(err, 'E_INVALID_OPTION')).toBe(true);
    expect(isConnectionError(err)).toBe(false);
    expect(await other.driver.query<{ n: number }>('SELECT 3 AS n')).toEqual([{ n: 3 }]);
  });

  it('tells a process that went through the holder when the holder is gone and nobody holds the store', async () => {
    const dir = freshDir();
    const holder = await storeAt(dir);
    let gone = 0;
    const other = await Store.open({ dataDir: dir, logger: quietLogger(), onHolderGone: () => gone++ });
    open.push(other);
    await holder.close();
    open.splice(open.indexOf(holder), 1);
    const err = await other.driver.query('SELECT 1').catch((e: unknown) => e);
    const again = await other.driver.query('SELECT 1').catch((e: unknown) => e);
    expect(isConnectionError(again ?? err)).toBe(true);
    await eventually(() => gone > 0, 2000, 'the holder-gone call');
    expect((again as Error).message).toMatch(/the one that held it exited; restart this process/);
  });

  it('lets exactly one of several processes take over a stale lock at once', async () => {
    const dir = freshDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}.lock`, '2147483646');
    const outputs = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', LOCK_RACE, dir, '1500'], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        await new Promise((r) => child.on('exit', r));
        return out.trim();
      }),
    );
    expect(outputs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outputs.filter((o) => /^held by \d+$/.test(o))).toHaveLength(4);
  });
});
