// Every engine test runs on PGlite and, when BATON_PG_URL is set, on PostgreSQL too.
// Each PostgreSQL store gets a database of its own so test files can run in parallel.
import pg from 'pg';
import { Store, Worker, createLogger, type WorkerOptions } from '../src/index.js';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated store. */
  open(): Promise<Store>;
  /** A fresh store with no schema yet. */
  openEmpty(): Promise<Store>;
  /** The URL of the last database created (PostgreSQL only), for child processes. */
  url?: string;
}

const PG_URL = process.env.BATON_PG_URL;

export const quietLogger = () => createLogger(process.env.BATON_TEST_LOG ?? 'silent');

/** Creates an empty database on the test server and returns its URL. */
export async function freshDatabase(): Promise<string> {
  const server = process.env.BATON_PG_URL;
  if (!server) throw new Error('BATON_PG_URL is not set');
  // The prefix is this test run's (vitest.global-setup.ts drops its databases at the end).
  const prefix = process.env.BATON_TEST_DB_PREFIX ?? 'baton_t_adhoc';
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'pglite',
      async open() {
        const store = await this.openEmpty();
        await store.migrate();
        return store;
      },
      openEmpty: () => Store.open({ dataDir: 'memory://', logger: quietLogger() }),
    },
  ];
  if (PG_URL) {
    list.push({
      name: 'postgres',
      async open() {
        const store = await this.openEmpty();
        await store.migrate();
        return store;
      },
      openEmpty: async () => Store.open({ databaseUrl: await freshDatabase(), logger: quietLogger() }),
    });
  }
  return list;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the timeout passes. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Runs `fn` beside a started worker of `store` (polling every 50 ms unless told), and always stops it. */
export async function withWorker<T>(
  store: Store,
  options: WorkerOptions,
  fn: (w: Worker) => Promise<T>,
): Promise<T> {
  const w = new Worker(store, { pollInterval: 50, ...options });
  await w.start();
  try {
    return await fn(w);
  } finally {
    await w.stop({ deadline: 2000 });
  }
}
