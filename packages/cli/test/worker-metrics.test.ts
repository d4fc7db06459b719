// `baton worker --metrics-port`: a real worker process serving Prometheus metrics on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { baton, BIN } from './run-baton.js';

const GREET = fileURLToPath(new URL('./fixtures/greet-jobs.ts', import.meta.url));

describe('baton worker --metrics-port', () => {
  const procs: ChildProcess[] = [];
  afterAll(() => procs.forEach((p) => p.kill('SIGKILL')));

  function start(args: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
    const child = spawn(process.execPath, [BIN, 'worker', GREET, ...args], {
      env: { ...process.env, BATON_DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${err}`)));
      const t = setInterval(() => {
        if (err.includes('Ctrl-C to stop')) {
          clearInterval(t);
          resolve({ child, stderr: () => err });
        }
      }, 20);
    });
  }

  it('serves attempts and queue depth at GET /metrics on 127.0.0.1, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-metrics-'));
    const g = ['--data-dir', join(dir, 'db')];
    expect((await baton(['migrate', ...g])).code).toBe(0);
    const w = await start(['--metrics-port', '0', ...g]);
    const url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(w.stderr())![1]!;
    const sent = await baton(['enqueue', 'greet', '--input', '{"name":"Ada"}', ...g]);
    expect(sent.code).toBe(0);
    const done = /^baton_attempts_total\{kind="job",name="greet",queue="default",outcome="completed"\} 1$/m;
    let text = '';
    for (let i = 0; i < 200 && !done.test(text); i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      text = await res.text();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toMatch(
      /^baton_attempts_total\{kind="job",name="greet",queue="default",outcome="completed"\} 1$/m,
    );
    expect(text).toMatch(/^# TYPE baton_queue_depth gauge$/m);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });

  it('says so when the port is taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-metrics-'));
    const g = ['--data-dir', join(dir, 'db')];
    expect((await baton(['migrate', ...g])).code).toBe(0);
    const first = await start(['--metrics-port', '0', ...g]);
    const port = /metrics at http:\/\/127\.0\.0\.1:(\d+)\//.exec(first.stderr())![1]!;
    const dir2 = mkdtempSync(join(tmpdir(), 'baton-metrics-'));
    expect((await baton(['migrate', '--data-dir', join(dir2, 'db')])).code).toBe(0);
    const r = await baton(['worker', GREET, '--metrics-port', port, '--data-dir', join(dir2, 'db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: the port is in use`),
    );
  });
});
