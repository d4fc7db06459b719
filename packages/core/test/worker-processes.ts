// Real worker processes for crash tests (fixtures/worker-process.ts under tsx).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freshDatabase, quietLogger } from './backends.js';
import { Client, Store } from '../src/index.js';
import { EFFECTS_TABLE } from './fixtures/effect-jobs.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

export interface Proc {
  child: ChildProcess;
  id: string;
  exited: Promise<number | null>;
}

export function startWorker(url: string, env: Record<string, string> = {}): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: { ...process.env, BATON_DATABASE_URL: url, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve({ child, id: m[1], exited });
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready: ${out}`)));
  });
}

/**
 * Registers the hooks of a suite that runs real worker processes: a fresh PostgreSQL database
 * with the effects table, and no worker left behind after each test. Read the fields in tests.
 */
export function processSuite(): {
  url: string;
  store: Store;
  client: Client;
  start(env?: Record<string, string>): Promise<Proc>;
} {
  const procs: Proc[] = [];
  const suite = {
    url: '',
    store: undefined as unknown as Store,
    client: undefined as unknown as Client,
    async start(env: Record<string, string> = {}): Promise<Proc> {
      const p = await startWorker(suite.url, env);
      procs.push(p);
      return p;
    },
  };
  beforeAll(async () => {
    suite.url = await freshDatabase();
    suite.store = await Store.open({ databaseUrl: suite.url, logger: quietLogger() });
    await suite.store.migrate();
    suite.client = new Client(suite.store);
    await suite.store.driver.query(EFFECTS_TABLE);
  });
  afterEach(async () => {
    // A failed test must not leave workers behind to take the next test's jobs.
    for (const p of procs.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });
  afterAll(async () => {
    await suite.store.close();
  });
  return suite;
}
