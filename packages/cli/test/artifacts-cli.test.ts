// `baton artifacts …`: the real binary on an embedded store whose ledger this test filled.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@baton/flows';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore, Client, Store, createLogger, defineJob } from '@baton/core';
import { baton, BIN } from './run-baton.js';

const LEDGER_JOBS = fileURLToPath(new URL('./fixtures/ledger-jobs.ts', import.meta.url));

describe('baton artifacts (embedded PGlite)', () => {
  let dir: string;
  let g: string[];
  let env: Record<string, string>;
  let csvDigest: string;
  let runs: string[];
  const openStore = () =>
    Store.open({
      dataDir: join(dir, 'db'),
      blobDir: join(dir, 'blobs'),
      inlineBlobMaxBytes: 64,
      serve: false,
      logger: createLogger('silent'),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-artifacts-cli-'));
    g = ['--data-dir', join(dir, 'db')];
    env = { BATON_BLOB_DIR: join(dir, 'blobs') };
    const store = await openStore();
    try {
      await store.migrate();
      const run = { execution: 'bt-run-1', attempt: 1 };
      await store.artifacts.put(run, 'metrics.json', { trades: 4, sharpe: 0.2766 });
      const csv = await store.artifacts.put(run, 'records.csv', 'day,pnl\n' + '2018-01-02,12\n'.repeat(20), {
        mediaType: 'text/csv',
      });
      csvDigest = csv.digest;
      await store.artifacts.put(
        { ...run, step: 'simulate', position: 3 },
        'state.bin',
        new Uint8Array([0, 159, 146, 150]),
      );
      // two runs of one job with the same input and code, and different outputs (no worker runs them)
      const job = defineJob('bt-backtest', { queue: 'bt-unserved' }, async () => null);
      const client = new Client(store);
      const ledger = new ArtifactStore(store.driver, {
        blobDir: join(dir, 'blobs'),
        inlineMaxBytes: 4096,
        codeVersion: () => ({ git: { commit: 'c0ffee'.padEnd(40, '0'), dirty: false } }),
      });
      runs = [];
      for (const sharpe of [0.27, 0.31]) {
        const { id } = await client.enqueue(job, { or_n: 6 });
        await ledger.put({ execution: id, attempt: 1 }, 'metrics.json', { sharpe });
        runs.push(id);
      }
    } finally {
      await store.close();
    }
  });

  it('lists, shows and gets artifacts by name or digest', async () => {
    const list = await baton([...g, 'artifacts', 'list', 'bt-run-1'], { env });
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SIZE\s+MEDIA TYPE\s+DIGEST\s+PUT BY$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([
      'metrics.json',
      'records.csv',
      'state.bin',
    ]);
    expect(list.stdout).toMatch(
      /state\.bin\s+4 B\s+application\/octet-stream\s+sha256:[0-9a-f]{12}\s+step 'simulate' \(#3\), attempt 1/,
    );

    const json = await baton([...g, 'artifacts', 'list', 'bt-run-1', '--json'], { env });
    const parsed = JSON.parse(json.stdout) as { name: string; stored: string; size: number }[];
    expect(parsed.map((a) => [a.name, a.stored])).toEqual([
      ['metrics.json', 'database'],
      ['records.csv', 'blob directory'],
      ['state.bin', 'database'],
    ]);

    const show = await baton([...g, 'artifacts', 'show', 'bt-run-1', 'records.csv'], { env });
    expect(show.stdout).toContain(`digest      ${csvDigest}`);
    expect(show.stdout).toContain('stored in   blob directory');

    const byDigest = await baton([...g, 'artifacts', 'get', csvDigest], { env });
    expect(byDigest.stdout.startsWith('day,pnl\n2018-01-02,12\n')).toBe(true);
    const byName = await baton([...g, 'artifacts', 'get', 'bt-run-1', 'metrics.json'], { env });
    expect(JSON.parse(byName.stdout)).toEqual({ sharpe: 0.2766, trades: 4 });

    const out = join(dir, 'state.bin');
    const binary = await baton([...g, 'artifacts', 'get', 'bt-run-1', 'state.bin', '-o', out], { env });
    expect(binary.stdout).toMatch(/^wrote 4 bytes \(sha256:[0-9a-f]{64}\) to /);
    expect([...readFileSync(out)]).toEqual([0, 159, 146, 150]);
  });

  it('refuses what it cannot do with one line that says why', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['artifacts', 'get', 'bt-run-1', 'state.bin'],
        /application\/octet-stream \(4 bytes\), not text: write it to a file with -o <file>/,
      ],
      [['artifacts', 'get', 'abc'], /'abc' is not a digest .*baton artifacts get <execution> <name>/],
      [
        ['artifacts', 'show', 'bt-run-1', 'metric.json'],
        /E_NOT_FOUND.*has no artifact 'metric.json'; it has: metrics.json, records.csv, state.bin/,
      ],
      [['artifacts', 'get', `sha256:${'a'.repeat(64)}`], /E_NOT_FOUND.*no artifact has the digest/],
    ];
    for (const [args, message] of cases) {
      const r = await baton([...g, ...args], { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const bad = await baton([...g, 'artifacts', 'collect', '--older-than', 'soon'], { env });
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(bad.stderr).toMatch(/--older-than/);
    const dry = await baton([...g, 'artifacts', 'collect', '--dry-run'], { env });
    expect(dry.stdout.trim()).toBe(
      'would delete 0 blob(s) no artifact names and 0 file(s) no blob keeps: 0 B',
    );
    const none = await baton([...g, 'artifacts', 'list', 'nobody'], { env });
    expect(none.stdout.trim()).toBe('execution nobody has no artifacts');
  });

  it('shows a run manifest, diffs two runs and flags them as non-reproducible', async () => {
    const [a, b] = runs;
    const m = await baton([...g, 'artifacts', 'manifest', a!], { env });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout.split('\n')[0]).toBe(`execution   ${a} (job 'bt-backtest', queued)`);
    expect(m.stdout).toContain(`code        git c0ffee${'0'.repeat(34)}\n`);
    expect(m.stdout).toMatch(/outputs:\n {2}metrics\.json {2}sha256:[0-9a-f]{64} {2}\d+ B/);
    const json = JSON.parse((await baton([...g, 'artifacts', 'manifest', a!, '--json'], { env })).stdout) as {
      seed: null;
      result: null;
    };
    expect([json.seed, json.result]).toEqual([null, null]);

    const diff = await baton([...g, 'artifacts', 'diff', a!, b!], { env });
    expect(diff.stdout.trim()).toMatch(
      /^output 'metrics\.json' differs \(sha256:[0-9a-f]{12} vs sha256:[0-9a-f]{12}\)$/,
    );
    const compare = await baton([...g, 'runs', 'compare', a!, b!], { env });
    expect(compare.code).toBe(1);
    expect(compare.stdout.split('\n')[0]).toBe(`${a} vs ${b}: non-reproducible`);
    const same = await baton([...g, 'runs', 'compare', a!, a!], { env });
    expect([same.code, same.stdout.split('\n')[0]]).toEqual([0, `${a} vs ${a}: reproduced`]);
    const missing = await baton([...g, 'artifacts', 'manifest', 'bt-run-1'], { env });
    expect(missing.stderr.trim()).toMatch(/^error \[E_NOT_FOUND\]: no execution with id 'bt-run-1'/);
  });

  it('seals a run with the HMAC key in the environment; verify checks the signature', async () => {
    const run = runs[0]!;
    const keyed = { ...env, BATON_LEDGER_HMAC_KEY: 'a shared secret of the team' };
    const noKey = await baton([...g, 'artifacts', 'seal', run], {
      env: { ...env, BATON_LEDGER_HMAC_KEY: undefined },
    });
    expect([noKey.code, noKey.stderr.trim()]).toEqual([
      1,
      'error [E_INVALID_OPTION]: no sealing key: set BATON_LEDGER_HMAC_KEY to a secret of 16 bytes or more, or pass --ed25519-key <file>',
    ]);
    const sealed = await baton([...g, 'artifacts', 'seal', run, '--key-id', 'team'], { env: keyed });
    expect(sealed.stdout).toMatch(
      new RegExp(`^sealed ${run}: manifest sha256:[0-9a-f]{64} \\(hmac-sha256\\)\n$`),
    );
    const ok = await baton([...g, 'artifacts', 'verify', run], { env: keyed });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/; sealed \(hmac-sha256, key 'team'\) at \S+; signature checked\n$/);
    const unchecked = await baton([...g, 'artifacts', 'verify', run], {
      env: { ...env, BATON_LEDGER_HMAC_KEY: undefined },
    });
    expect(unchecked.stdout).toMatch(
      /signature not checked \(no key: set BATON_LEDGER_HMAC_KEY or pass --ed25519-key\)/,
    );
    const forged = await baton([...g, 'artifacts', 'verify', run], {
      env: { ...env, BATON_LEDGER_HMAC_KEY: 'somebody else entirely' },
    });
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(
      /\(seal\) \(sha256:[0-9a-f]{64}\): the seal's signature was not made with this key \(sealed with key 'team'\)/,
    );
    expect(forged.stdout + forged.stderr).not.toContain('somebody else entirely');
  });

  it('verify passes, then fails with exit code 1 once a stored blob changed', async () => {
    const ok = await baton([...g, 'artifacts', 'verify', 'bt-run-1'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(
      '3 artifact(s) of bt-run-1 verified: every blob hashes to its digest; not sealed',
    );

    const store = await openStore();
    try {
      await store.driver.query(
        `UPDATE baton.artifact_blobs SET data = convert_to('{"trades":40}', 'UTF8')
         WHERE digest = (SELECT digest FROM baton.artifacts WHERE execution_id = 'bt-run-1' AND name = 'metrics.json')`,
      );
    } finally {
      await store.close();
    }
    const bad = await baton([...g, 'artifacts', 'verify', 'bt-run-1'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /^1 of 3 artifact\(s\) of bt-run-1 failed verification:\n {2}metrics\.json \(sha256:[0-9a-f]{64}\): size 13 bytes, recorded 28\n$/,
    );
    const blobs = await baton([...g, 'artifacts', 'verify', 'bt-run-1'], {
      env: { BATON_BLOB_DIR: join(dir, 'elsewhere') },
    });
    expect(blobs.stdout).toMatch(
      /records\.csv .*is not at .*elsewhere.*point BATON_BLOB_DIR at that directory/,
    );
  });
});

describe('baton worker records its configuration in run manifests', () => {
  it("a run's manifest carries the hash of the configuration directory the worker loaded", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-worker-ledger-'));
    const cfg = join(dir, 'baton');
    mkdirSync(join(cfg, 'base'), { recursive: true });
    writeFileSync(join(cfg, 'base', 'sla_rules.yaml'), 'sla_targets:\n  shell:\n    target_minutes: 5\n');
    const g = ['--data-dir', join(dir, 'db'), '--config-dir', cfg];
    const env = { BATON_BLOB_DIR: join(dir, 'blobs') };
    expect((await baton([...g, 'migrate'], { env })).code).toBe(0);
    const worker = spawn(process.execPath, [BIN, ...g, 'worker', LEDGER_JOBS], {
      env: { ...process.env, BATON_DATABASE_URL: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        worker.stderr.on('data', () => stderr.includes('running') && resolve());
        worker.on('exit', (c) => reject(new Error(`the worker exited ${c}: ${stderr}`)));
      });
      const enq = await baton([...g, 'enqueue', 'ledger-report', '--input', '{"n":7}', '--json'], { env });
      const { id } = JSON.parse(enq.stdout) as { id: string };
      let manifest:
        { configHash: string | null; result: string | null; outputs: { name: string }[] } | undefined;
      for (let i = 0; i < 100 && !manifest?.result; i++) {
        const m = await baton([...g, 'artifacts', 'manifest', id, '--json'], { env });
        if (m.code === 0) manifest = JSON.parse(m.stdout) as typeof manifest;
        if (!manifest?.result) await new Promise((r) => setTimeout(r, 200));
      }
      expect(manifest?.outputs.map((o) => o.name)).toEqual(['report.json']);
      expect(manifest?.configHash).toBe((await loadConfig(cfg)).hash);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.on('exit', r));
    }
  });
});
