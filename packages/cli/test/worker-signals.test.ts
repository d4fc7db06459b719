// `baton worker` stops gracefully on a SIGTERM that comes while it is still starting (a deploy that
// replaces a worker right after starting it), instead of dying by the default action.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton, BIN } from './run-baton.js';

const SLOW = fileURLToPath(new URL('./fixtures/slow-start-jobs.ts', import.meta.url));

describe('baton worker and signals', () => {
  it('a SIGTERM while the worker starts stops it gracefully once started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-worker-signal-'));
    try {
      expect((await baton(['--data-dir', join(dir, 'db'), 'migrate'])).code).toBe(0);
      const child = spawn(process.execPath, [BIN, '--data-dir', join(dir, 'db'), 'worker', SLOW], {
        env: { ...process.env, BATON_DATABASE_URL: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (d.toString().includes('slow module: loading')) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
        child.on('exit', (c, s) => r([c, s])),
      );
      expect(signal, stderr).toBeNull();
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/SIGTERM: finishing running jobs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
