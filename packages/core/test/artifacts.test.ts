// The artifacts ledger: ctx.artifacts in jobs, activities and workflow steps; content addressing;
// large blobs in the blob directory; verify; bad input. Real stores on both backends.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { interceptStatements } from './intercept.js';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { backends, withWorker as runWithWorker } from './backends.js';
import { readCodeVersion } from '../src/artifacts/code-version.js';
import {
  ArtifactStore,
  BatonError,
  Client,
  defineJob,
  defineWorkflow,
  digestOf,
  type Store,
  type WorkerOptions,
} from '../src/index.js';

function batonError(p: Promise<unknown>): Promise<BatonError> {
  return p.then(
    () => {
      throw new Error('expected a BatonError');
    },
    (e: unknown) => {
      if (e instanceof BatonError) return e;
      throw e;
    },
  );
}

for (const b of backends()) {
  describe(`artifacts ledger (${b.name})`, () => {
    let store: Store;
    let client: Client;
    let blobDir: string;
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
      blobDir = mkdtempSync(join(tmpdir(), 'baton-blobs-'));
    });
    afterAll(async () => {
      await store.close();
      rmSync(blobDir, { recursive: true, force: true });
    });

    const withWorker = <T>(opts: WorkerOptions, fn: () => Promise<T>) => runWithWorker(store, opts, fn);

    it('a job puts text, JSON and bytes; each is stored once by content and read back by digest or by name', async () => {
      const job = defineJob('artifacts-job', {}, async (n: number, ctx) => {
        await ctx.artifacts.put('params.json', { seed: n, symbol: 'USDJPY' });
        await ctx.artifacts.put('notes.txt', `run ${n}`);
        await ctx.artifacts.put('raw.bin', new Uint8Array([1, 2, 3, n]), { mediaType: 'application/x-test' });
        // the same JSON with its keys in another order: the same bytes, the same digest
        const again = await ctx.artifacts.put('params-again.json', { symbol: 'USDJPY', seed: n });
        return again.digest;
      });
      const [one, two] = await withWorker({ jobs: [job] }, async () => {
        const a = await client.enqueue(job, 7);
        const c = await client.enqueue(job, 7);
        return [
          await client.result<string>(a.id, { timeout: '10s' }),
          await client.result<string>(c.id, { timeout: '10s' }),
        ].map((digest, i) => ({ digest, id: i === 0 ? a.id : c.id }));
      });
      const list = await client.artifacts.list(one!.id);
      expect(list.map((a) => [a.name, a.mediaType, a.attempt, a.step, a.stored])).toEqual([
        ['notes.txt', 'text/plain; charset=utf-8', 1, null, 'database'],
        ['params-again.json', 'application/json', 1, null, 'database'],
        ['params.json', 'application/json', 1, null, 'database'],
        ['raw.bin', 'application/x-test', 1, null, 'database'],
      ]);
      const params = list.find((a) => a.name === 'params.json')!;
      expect(params.digest).toBe(one!.digest);
      expect(params.digest).toBe(digestOf(Buffer.from('{"seed":7,"symbol":"USDJPY"}')));
      expect(two!.digest).toBe(one!.digest);
      // four names across two executions, one blob
      const [shared] = await store.driver.query<{ names: number; blobs: number }>(
        `SELECT (SELECT count(*)::int FROM baton.artifacts WHERE digest = $1) AS names,
                (SELECT count(*)::int FROM baton.artifact_blobs WHERE digest = $1) AS blobs`,
        [params.digest],
      );
      expect(shared).toEqual({ names: 4, blobs: 1 });
      const byDigest = await client.artifacts.get(params.digest);
      expect(byDigest.json()).toEqual({ seed: 7, symbol: 'USDJPY' });
      const byName = await client.artifacts.get({ execution: two!.id, name: 'raw.bin' });
      expect([...byName.bytes]).toEqual([1, 2, 3, 7]);
      expect(byName.mediaType).toBe('application/x-test');
      expect((await client.artifacts.get({ execution: one!.id, name: 'notes.txt' })).text()).toBe('run 7');
      expect(await client.artifacts.verify(one!.id)).toEqual({
        execution: one!.id,
        checked: 4,
        ok: true,
        problems: [],
        seal: null,
      });
    });

    it('workflow steps record their step and history position; an activity and a child workflow record their own executions', async () => {
      const measure = defineJob('artifacts-activity', {}, async (x: number, ctx) => {
        await ctx.artifacts.put('measure.json', { x, squared: x * x });
        return x * x;
      });
      const child = defineWorkflow('artifacts-child', {}, async (ctx, x: number) =>
        ctx.step('summarise', async (s) => (await s.artifacts.put('summary.txt', `x=${x}`), x)),
      );
      const wf = defineWorkflow('artifacts-flow', {}, async (ctx, x: number) => {
        await ctx.step('prepare', async (s) => (await s.artifacts.put('input.json', { x }), x));
        await ctx.runChild(child, x);
        const sq = await ctx.run(measure, x);
        await ctx.step('report', async (s) => s.artifacts.put('report.txt', `squared: ${sq}`).then(() => sq));
        return sq;
      });
      const { id } = await withWorker({ workflows: [wf, child], jobs: [measure] }, async () => {
        const started = await client.start(wf, 4);
        expect(await client.result(started.id, { timeout: '10s' })).toBe(16);
        return started;
      });
      const history = (await client.describe(id)).history;
      const seqOf = (name: string) => history.find((h) => h.name === name)!.seq;
      const mine = await client.artifacts.list(id);
      expect(mine.map((a) => [a.name, a.step, a.position, a.attempt])).toEqual([
        ['input.json', 'prepare', seqOf('prepare'), 1],
        ['report.txt', 'report', seqOf('report'), 1],
      ]);
      const [activity] = await store.driver.query<{ id: string }>(
        `SELECT id FROM baton.executions WHERE parent_id = $1 AND name = 'artifacts-activity'`,
        [id],
      );
      const theirs = await client.artifacts.list(activity!.id);
      expect(theirs.map((a) => a.name)).toEqual(['measure.json']);
      expect((await client.get(activity!.id)).parentId).toBe(id);
      const [kid] = await store.driver.query<{ id: string }>(
        `SELECT id FROM baton.executions WHERE parent_id = $1 AND name = 'artifacts-child'`,
        [id],
      );
      const summary = await client.artifacts.list(kid!.id);
      expect(summary.map((a) => [a.name, a.step, a.execution])).toEqual([
        ['summary.txt', 'summarise', kid!.id],
      ]);
      expect((await client.artifacts.get({ execution: id, name: 'report.txt' })).text()).toBe('squared: 16');
    });

    it("a retry's put replaces the failed attempt's under the same name", async () => {
      const job = defineJob(
        'artifacts-retry',
        { retry: { maxAttempts: 2, baseDelay: 10, jitter: 'none' } },
        async (_: null, ctx) => {
          await ctx.artifacts.put('out.txt', `attempt ${ctx.attempt}`);
          if (ctx.attempt === 1) throw new Error('first attempt fails');
          return 'ok';
        },
      );
      const id = await withWorker({ jobs: [job] }, async () => {
        const { id } = await client.enqueue(job, null);
        expect(await client.result(id, { timeout: '10s' })).toBe('ok');
        return id;
      });
      const [out] = await client.artifacts.list(id);
      expect([out!.name, out!.attempt]).toEqual(['out.txt', 2]);
      expect((await client.artifacts.get(out!.digest)).text()).toBe('attempt 2');
    });

    it('putMany stores several artifacts in one statement: order kept, shared content once, large ones on disk; a repeated name or a stale attempt refused', async () => {
      const ledger = new ArtifactStore(store.driver, { blobDir, inlineMaxBytes: 1024 });
      const producer = { execution: 'artifacts-many-1', attempt: 2 };
      const put = await ledger.putMany(producer, [
        { name: 'metrics.json', data: { trades: 23 } },
        { name: 'big.csv', data: 'y'.repeat(5000), mediaType: 'text/csv' },
        { name: 'copy.json', data: { trades: 23 } },
      ]);
      expect(put.map((a) => [a.name, a.stored])).toEqual([
        ['metrics.json', 'database'],
        ['big.csv', 'blob directory'],
        ['copy.json', 'database'],
      ]);
      expect(put[0]!.digest).toBe(put[2]!.digest);
      expect(put[1]!.mediaType).toBe('text/csv');
      expect((await ledger.get({ execution: producer.execution, name: 'big.csv' })).text()).toBe(
        'y'.repeat(5000),
      );
      const [{ n }] = await store.driver.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM baton.artifact_blobs WHERE digest = $1',
        [put[0]!.digest],
      );
      expect(n).toBe(1);
      await expect(
        ledger.putMany(producer, [
          { name: 'a.txt', data: '1' },
          { name: 'a.txt', data: '2' },
        ]),
      ).rejects.toThrow(/'a\.txt' is given twice/);
      // an earlier attempt of the same job may not replace what attempt 2 put
      await expect(
        ledger.putMany({ ...producer, attempt: 1 }, [{ name: 'metrics.json', data: { trades: 0 } }]),
      ).rejects.toMatchObject({ code: 'E_LEASE_EXPIRED' });
      expect((await ledger.get({ execution: producer.execution, name: 'metrics.json' })).json()).toEqual({
        trades: 23,
      });
    });

    it('readMany declares several input files in one statement: bytes and digests in order; a repeated or missing file refused, nothing recorded', async () => {
      const ledger = new ArtifactStore(store.driver, { blobDir, inlineMaxBytes: 1024 });
      const producer = { execution: 'artifacts-read-many-1', attempt: 1 };
      const small = join(blobDir, 'm.yaml');
      const large = join(blobDir, 'bars-many.csv');
      writeFileSync(small, 'meta: {id: x}\n');
      writeFileSync(large, 'c\n' + '112.5\n'.repeat(500));
      const statements: string[] = [];
      interceptStatements(store.driver, { before: (s) => statements.push(s) });
      const read = await ledger.inputs(producer, [
        { path: small, mediaType: 'application/yaml' },
        { path: large, mediaType: 'text/csv' },
      ]);
      expect(statements.filter((s) => s === 'baton_artifact_put')).toHaveLength(1);
      expect(
        read.map((r) => [r.artifact.name, r.artifact.role, r.artifact.stored, r.artifact.mediaType]),
      ).toEqual([
        [small, 'input', 'database', 'application/yaml'],
        [large, 'input', 'blob directory', 'text/csv'],
      ]);
      expect(read.map((r) => r.artifact.digest)).toEqual([
        digestOf(readFileSync(small)),
        digestOf(readFileSync(large)),
      ]);
      expect(read[1]!.bytes.equals(readFileSync(large))).toBe(true);
      const again = await batonError(ledger.inputs(producer, [{ path: small }, { path: small }]));
      expect([again.code, again.message]).toEqual(['E_INVALID_OPTION', expect.stringMatching(/given twice/)]);
      const missing = await batonError(
        ledger.inputs({ ...producer, execution: 'artifacts-read-many-2' }, [
          { path: small },
          { path: join(blobDir, 'absent.csv') },
        ]),
      );
      expect([missing.code, missing.message]).toEqual([
        'E_NOT_FOUND',
        expect.stringMatching(/cannot read input file .*absent\.csv: ENOENT/),
      ]);
      expect(await ledger.list('artifacts-read-many-2')).toEqual([]);
    });

    it('a put of content whose blob file was changed or removed on disk writes the file again', async () => {
      const ledger = new ArtifactStore(store.driver, { blobDir, inlineMaxBytes: 1024 });
      const big = 'bars,'.repeat(300);
      const first = await ledger.put({ execution: 'artifacts-repair-1', attempt: 1 }, 'bars.csv', big);
      const hex = first.digest.slice('sha256:'.length);
      const file = join(blobDir, 'sha256', hex.slice(0, 2), hex);
      // Same size, and the mtime put back to the nanosecond: only the ctime tells it was written.
      const { mtimeNs } = statSync(file, { bigint: true });
      writeFileSync(file, big.replace('bars', 'BARS'));
      const ns = String(mtimeNs % 1_000_000_000n).padStart(9, '0');
      execFileSync('touch', ['-m', '-d', `@${mtimeNs / 1_000_000_000n}.${ns}`, file]);
      expect(statSync(file, { bigint: true }).mtimeNs).toBe(mtimeNs);
      await ledger.put({ execution: 'artifacts-repair-2', attempt: 1 }, 'bars.csv', big);
      expect(readFileSync(file, 'utf8')).toBe(big);
      expect((await ledger.verify('artifacts-repair-1')).ok).toBe(true);

      unlinkSync(file);
      await ledger.put({ execution: 'artifacts-repair-3', attempt: 1 }, 'bars.csv', big);
      expect(readFileSync(file, 'utf8')).toBe(big);
      expect((await ledger.get(first.digest)).text()).toBe(big);
    });

    it('large blobs live in the blob directory; verify finds a changed or missing blob, and get refuses it', async () => {
      const ledger = new ArtifactStore(store.driver, { blobDir, inlineMaxBytes: 1024 });
      const big = 'x'.repeat(5000);
      const producer = { execution: 'artifacts-large-1', attempt: 1 };
      const a = await ledger.put(producer, 'big.txt', big);
      const small = await ledger.put(producer, 'small.txt', 'tiny');
      expect([a.stored, small.stored]).toEqual(['blob directory', 'database']);
      const hex = a.digest.slice('sha256:'.length);
      const file = join(blobDir, 'sha256', hex.slice(0, 2), hex);
      expect(readFileSync(file, 'utf8')).toBe(big);
      const [row] = await store.driver.query<{ inline: boolean }>(
        'SELECT data IS NOT NULL AS inline FROM baton.artifact_blobs WHERE digest = $1',
        [a.digest],
      );
      expect(row!.inline).toBe(false);
      expect((await ledger.get(a.digest)).text()).toBe(big);
      // putting it again writes nothing new
      await ledger.put({ execution: 'artifacts-large-2', attempt: 1 }, 'copy.txt', big);
      expect((await ledger.verify('artifacts-large-2')).ok).toBe(true);

      writeFileSync(file, big.replace('x', 'y'));
      const changed = await ledger.verify('artifacts-large-1');
      expect(changed.ok).toBe(false);
      expect(changed.checked).toBe(2);
      expect(changed.problems).toEqual([
        {
          name: 'big.txt',
          digest: a.digest,
          problem: expect.stringMatching(/^content hashes to sha256:[0-9a-f]{64}$/),
        },
      ]);
      expect((await batonError(ledger.get(a.digest))).code).toBe('E_INVALID_STATE');

      unlinkSync(file);
      const missing = await ledger.verify('artifacts-large-1');
      expect(missing.problems[0]!.problem).toMatch(/is not at .*point BATON_BLOB_DIR at that directory/);
      expect(existsSync(file)).toBe(false);
    });

    it("pruning an execution removes its artifacts' names; the blob stays for the executions that share it", async () => {
      const job = defineJob('artifacts-prune', { queue: 'artifacts-prune' }, async (_: null, ctx) => {
        await ctx.artifacts.put('shared.txt', 'same content');
        return ctx.id;
      });
      const [old, kept] = await withWorker({ jobs: [job] }, async () => {
        const a = await client.enqueue(job, null);
        const c = await client.enqueue(job, null);
        await client.result(a.id, { timeout: '10s' });
        await client.result(c.id, { timeout: '10s' });
        return [a.id, c.id];
      });
      await store.driver.query(
        `UPDATE baton.executions SET finished_at = now() - interval '8 days' WHERE id = $1`,
        [old],
      );
      expect(await client.prune({ completed: '7d' })).toBe(1);
      expect(await client.artifacts.list(old!)).toEqual([]);
      const [left] = await client.artifacts.list(kept!);
      expect((await client.artifacts.get(left!.digest)).text()).toBe('same content');
    });

    it("a workflow's manifest records its input, the files it read, the code, its seed, its outputs and its result", async () => {
      const data = join(blobDir, 'bars.csv');
      writeFileSync(data, 'timestamp,c\n2018-01-01T00:00:00Z,112.5\n');
      const wf = defineWorkflow('artifacts-manifest-flow', {}, async (ctx, input: { file: string }) => {
        const rows = await ctx.step('read', async (s) => {
          // read() declares the file and hands back the bytes whose digest it recorded
          const { artifact, bytes } = await s.artifacts.read(input.file);
          if (artifact.digest !== digestOf(bytes))
            throw new Error('read() returned other bytes than it recorded');
          return bytes.toString('utf8').trim().split('\n').length - 1;
        });
        await ctx.step('write', (s) => s.artifacts.put('metrics.json', { rows }));
        return { rows };
      });
      const id = await withWorker({ workflows: [wf] }, async () => {
        const { id } = await client.start(wf, { file: data });
        await client.result(id, { timeout: '10s' });
        return id;
      });
      const m = await client.artifacts.manifest(id);
      expect(m).toMatchObject({
        execution: id,
        name: 'artifacts-manifest-flow',
        kind: 'workflow',
        status: 'completed',
        input: digestOf(Buffer.from(JSON.stringify({ file: data }))),
        files: [
          {
            name: data,
            digest: digestOf(readFileSync(data)),
            size: readFileSync(data).length,
            mediaType: 'application/octet-stream',
          },
        ],
        code: await readCodeVersion(process.cwd()),
        configHash: null,
        seed: id,
        outputs: [{ name: 'metrics.json', digest: digestOf(Buffer.from('{"rows":1}')) }],
        result: digestOf(Buffer.from('{"rows":1}')),
      });
      expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await client.artifacts.manifest(id)).digest).toBe(m.digest);
      const [input] = (await client.artifacts.list(id)).filter((a) => a.role === 'input');
      expect([input!.step, input!.name]).toEqual(['read', data]);
      // an input that cannot be read is refused with its path
      const e = await batonError(
        store.artifacts.input({ execution: id, attempt: 1 }, join(blobDir, 'missing.csv')),
      );
      expect([e.code, e.message]).toEqual([
        'E_NOT_FOUND',
        expect.stringMatching(/cannot read input file .*missing\.csv: ENOENT/),
      ]);
    });

    it('comparing runs: same inputs, code and configuration with other outputs is non-reproducible', async () => {
      const job = defineJob('artifacts-compare', { queue: 'artifacts-compare-unserved' }, async () => null);
      const clean = { git: { commit: 'c0ffee'.padEnd(40, '0'), dirty: false } };
      const ledger = (code: object, configHash = 'sha256:cfg-1') =>
        new ArtifactStore(store.driver, {
          blobDir,
          inlineMaxBytes: 4096,
          codeVersion: () => code as never,
          configHash,
        });
      const run = async (input: object, metrics: object, by = ledger(clean)) => {
        const { id } = await client.enqueue(job, input);
        await by.put({ execution: id, attempt: 1 }, 'metrics.json', metrics);
        return id;
      };
      const a = await run({ seed: 1 }, { sharpe: 0.5 });
      const same = await run({ seed: 1 }, { sharpe: 0.5 });
      const drifted = await run({ seed: 1 }, { sharpe: 0.7 });
      const otherInput = await run({ seed: 2 }, { sharpe: 0.7 });
      const dirty = await run({ seed: 1 }, { sharpe: 0.7 }, ledger({ git: { ...clean.git, dirty: true } }));
      const otherConfig = await run({ seed: 1 }, { sharpe: 0.7 }, ledger(clean, 'sha256:cfg-2'));

      const verdict = async (b: string) => (await client.artifacts.compare(a, b)).verdict;
      expect(await verdict(same)).toBe('reproduced');
      const c = await client.artifacts.compare(a, drifted);
      expect(c).toMatchObject({
        verdict: 'non-reproducible',
        sameInputs: true,
        sameCode: true,
        sameConfig: true,
        sameOutputs: false,
      });
      expect(c.differences).toEqual([
        expect.stringMatching(/^output 'metrics\.json' differs \(sha256:\w+ vs sha256:\w+\)$/),
      ]);
      expect(await verdict(otherInput)).toBe('different inputs, code or configuration');
      expect(await verdict(dirty)).toBe('undetermined');
      expect((await client.artifacts.compare(a, otherConfig)).differences).toContain(
        'the configuration differs',
      );
      expect((await batonError(client.artifacts.compare(a, 'no-such-run'))).message).toMatch(
        /no execution with id 'no-such-run'/,
      );
    });

    it("a late put from an earlier attempt does not replace the later attempt's", async () => {
      const producer = { execution: 'artifacts-stale', attempt: 2 };
      await store.artifacts.put(producer, 'out.txt', 'from attempt 2');
      const e = await batonError(
        store.artifacts.put({ ...producer, attempt: 1 }, 'out.txt', 'from attempt 1'),
      );
      expect([e.code, e.message]).toEqual([
        'E_LEASE_EXPIRED',
        "artifact 'out.txt' of artifacts-stale was not recorded: a later attempt than this one (1) already put it",
      ]);
      const [out] = await client.artifacts.list('artifacts-stale');
      expect([out!.attempt, (await client.artifacts.get(out!.digest)).text()]).toEqual([2, 'from attempt 2']);
      // in a workflow, attempts are compared within one step: another step's first attempt may put
      // the name a step's second attempt put
      const steps = { execution: 'artifacts-steps', step: 'fit', position: 2, attempt: 2 };
      await store.artifacts.put(steps, 'model.txt', 'fit, attempt 2');
      const stale = await batonError(
        store.artifacts.put({ ...steps, attempt: 1 }, 'model.txt', 'fit, attempt 1'),
      );
      expect(stale.code).toBe('E_LEASE_EXPIRED');
      const later = await store.artifacts.put(
        { ...steps, step: 'refit', position: 5, attempt: 1 },
        'model.txt',
        'refit',
      );
      expect([later.step, later.attempt]).toEqual(['refit', 1]);
    });

    it('content first kept in the blob directory moves into the database when a store that keeps it there puts it', async () => {
      const onDisk = new ArtifactStore(store.driver, { blobDir, inlineMaxBytes: 16 });
      const a = await onDisk.put(
        { execution: 'artifacts-move-1', attempt: 1 },
        'model.txt',
        'weights '.repeat(10),
      );
      expect(a.stored).toBe('blob directory');
      const b = await store.artifacts.put(
        { execution: 'artifacts-move-2', attempt: 1 },
        'model.txt',
        'weights '.repeat(10),
      );
      expect([b.digest, b.stored]).toEqual([a.digest, 'database']);
      expect((await client.artifacts.find('artifacts-move-1', 'model.txt')).stored).toBe('database');
    });

    it('JSON is canonical: keys sorted as text at every depth, integer-like keys included', async () => {
      const producer = { execution: 'artifacts-canonical', attempt: 1 };
      const a = await store.artifacts.put(producer, 'a.json', { b: 1, 10: [{ z: 1, a: 2 }], 9: null });
      expect((await client.artifacts.get(a.digest)).text()).toBe('{"10":[{"a":2,"z":1}],"9":null,"b":1}');
    });

    it('a sealed manifest verifies with its key; a changed run, another key or another kind of key does not', async () => {
      const job = defineJob('artifacts-seal', { queue: 'artifacts-seal-unserved' }, async () => null);
      const { id } = await client.enqueue(job, { or_n: 6 });
      await store.artifacts.put({ execution: id, attempt: 1 }, 'metrics.json', { trades: 4 });
      const hmac = { hmac: 'a long shared secret for tests', id: 'ci' };
      const sealed = await client.artifacts.seal(id, hmac);
      expect(sealed.signature).toMatchObject({ algorithm: 'hmac-sha256', keyId: 'ci' });
      const good = await client.artifacts.verify(id, { key: hmac });
      expect([good.ok, good.seal?.signatureChecked, good.seal?.algorithm]).toEqual([
        true,
        true,
        'hmac-sha256',
      ]);
      const unchecked = await client.artifacts.verify(id);
      expect([unchecked.ok, unchecked.seal?.signatureChecked]).toEqual([true, false]);

      const wrong = await client.artifacts.verify(id, { key: { hmac: 'another secret of enough length' } });
      expect(wrong.problems).toEqual([
        {
          name: '(seal)',
          digest: sealed.manifest.digest,
          problem: "the seal's signature was not made with this key (sealed with key 'ci')",
        },
      ]);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const other = await client.artifacts.verify(id, { key: { ed25519: pub } });
      expect(other.problems[0]!.problem).toBe('the seal is hmac-sha256, and the key given is ed25519');

      // ed25519: sealed with the private key, checked with the public one
      await client.artifacts.seal(id, {
        ed25519: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      });
      expect((await client.artifacts.verify(id, { key: { ed25519: pub } })).ok).toBe(true);
      // a public key cannot seal, and a short HMAC secret is refused
      expect((await batonError(client.artifacts.seal(id, { ed25519: pub }))).message).toMatch(
        /the ed25519 key is not usable to sign: /,
      );
      expect((await batonError(client.artifacts.seal(id, { hmac: 'short' }))).message).toMatch(
        /an HMAC sealing key must be at least 16 bytes, got 5/,
      );

      // an output added after sealing
      await store.artifacts.put({ execution: id, attempt: 1 }, 'extra.txt', 'added later');
      const changed = await client.artifacts.verify(id, { key: { ed25519: pub } });
      expect(changed.ok).toBe(false);
      expect(changed.problems[0]!.problem).toMatch(
        /^the manifest changed since it was sealed \(outputs\); now sha256:/,
      );
      // verifying with a key a run that was never sealed
      const never = await client.enqueue(job, null);
      expect((await client.artifacts.verify(never.id, { key: hmac })).problems[0]!.problem).toMatch(
        /never sealed/,
      );
    });

    it('collect deletes the blobs and files nothing names, past a grace period, and keeps what a run still names', async () => {
      const dir = mkdtempSync(join(blobDir, 'collect-'));
      const ledger = new ArtifactStore(store.driver, { blobDir: dir, inlineMaxBytes: 64 });
      const big = (c: string) => c.repeat(200);
      const a = await ledger.put({ execution: 'gc-1', attempt: 1 }, 'a.txt', big('a'));
      const b = await ledger.put({ execution: 'gc-1', attempt: 1 }, 'b.txt', 'small');
      await ledger.put({ execution: 'gc-2', attempt: 1 }, 'a-again.txt', big('a'));
      const c = await ledger.put({ execution: 'gc-3', attempt: 1 }, 'c.txt', big('c'));
      const fresh = await ledger.put({ execution: 'gc-4', attempt: 1 }, 'd.txt', big('d'));
      const fileOf = (digest: string) => {
        const hex = digest.slice(7);
        return join(dir, 'sha256', hex.slice(0, 2), hex);
      };
      const stray = fileOf(`sha256:${'e'.repeat(64)}`);
      mkdirSync(join(stray, '..'), { recursive: true });
      writeFileSync(stray, 'left by a crashed put');
      writeFileSync(`${fileOf(c.digest)}.abc123.tmp`, 'half a blob');
      // gc-1, gc-3 and gc-4 were pruned; all but gc-4's blob are old
      await store.driver.query(`DELETE FROM baton.artifacts WHERE execution_id IN ('gc-1', 'gc-3', 'gc-4')`);
      await store.driver.query(
        `UPDATE baton.artifact_blobs SET created_at = now() - interval '2 hours' WHERE digest = ANY($1::text[])`,
        [[a.digest, b.digest, c.digest]],
      );
      const old = new Date(Date.now() - 2 * 3_600_000);
      for (const f of [fileOf(a.digest), fileOf(c.digest), stray, `${fileOf(c.digest)}.abc123.tmp`])
        utimesSync(f, old, old);

      const dry = await ledger.collect({ dryRun: true });
      expect(dry).toEqual({ rows: 2, files: 3, bytes: 5 + 200 + 21 + 11, dryRun: true });
      expect(existsSync(fileOf(c.digest))).toBe(true);
      const done = await ledger.collect();
      expect(done).toEqual({ ...dry, dryRun: false });
      const [left] = await store.driver.query<{ digests: string[] }>(
        `SELECT coalesce(array_agg(digest ORDER BY digest), '{}') AS digests FROM baton.artifact_blobs WHERE digest = ANY($1::text[])`,
        [[a.digest, b.digest, c.digest, fresh.digest]],
      );
      expect(left!.digests).toEqual([a.digest, fresh.digest].sort());
      expect([existsSync(fileOf(a.digest)), existsSync(fileOf(fresh.digest))]).toEqual([true, true]);
      expect([
        existsSync(fileOf(c.digest)),
        existsSync(stray),
        existsSync(`${fileOf(c.digest)}.abc123.tmp`),
      ]).toEqual([false, false, false]);
      expect((await ledger.get({ execution: 'gc-2', name: 'a-again.txt' })).text()).toBe(big('a'));
      expect(await ledger.collect()).toEqual({ rows: 0, files: 0, bytes: 0, dryRun: false });
    });

    it('verify finds a blob changed in the database', async () => {
      const producer = { execution: 'artifacts-db-tamper', attempt: 1 };
      const a = await store.artifacts.put(producer, 'metrics.json', { sharpe: 0.27 });
      await store.driver.query(
        `UPDATE baton.artifact_blobs SET data = convert_to('{"sharpe":9}', 'UTF8') WHERE digest = $1`,
        [a.digest],
      );
      const report = await client.artifacts.verify(producer.execution);
      expect(report.ok).toBe(false);
      expect(report.problems[0]!.name).toBe('metrics.json');
    });

    it('refuses bad names, media types, data and references, and stores nothing', async () => {
      const producer = { execution: 'artifacts-bad', attempt: 1 };
      const blobCount = async () =>
        (await store.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM baton.artifact_blobs'))[0]!
          .n;
      const blobsBefore = await blobCount();
      const cases: [() => Promise<unknown>, string, RegExp][] = [
        [
          () => store.artifacts.put(producer, '', 'x'),
          'E_INVALID_OPTION',
          /an artifact name must be 1 to 200 characters/,
        ],
        [() => store.artifacts.put(producer, 'a\nb', 'x'), 'E_INVALID_OPTION', /without control characters/],
        [
          () => store.artifacts.put(producer, 'x.csv', 'a,b', { mediaType: 'csv' }),
          'E_INVALID_OPTION',
          /mediaType must look like 'type\/subtype'/,
        ],
        [
          () => store.artifacts.put(producer, 'x.json', { when: new Date(0) }),
          'E_NOT_JSON',
          /artifact 'x.json' is not JSON-serializable/,
        ],
        [() => store.artifacts.put(producer, 'n.json', { v: NaN }), 'E_NOT_JSON', /\$\.v is NaN/],
        [() => client.artifacts.get('abc'), 'E_INVALID_OPTION', /is not an artifact digest/],
        [() => client.artifacts.get(`sha256:${'0'.repeat(64)}`), 'E_NOT_FOUND', /no artifact has the digest/],
        [
          () => client.artifacts.get({ execution: 'artifacts-bad', name: 'nope' }),
          'E_NOT_FOUND',
          /has no artifact 'nope'; it has none/,
        ],
      ];
      for (const [call, code, message] of cases) {
        const e = await batonError(call());
        expect(e.code).toBe(code);
        expect(e.message).toMatch(message);
      }
      expect(await client.artifacts.list('artifacts-bad')).toEqual([]);
      expect(await blobCount()).toBe(blobsBefore);
    });
  });
}
