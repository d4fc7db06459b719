// Fresh databases for benchmark runs: one per system run, dropped at the end, so runs cannot
// interfere. Shared by the jobs and workflows suites.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

export class BenchDatabases {
  readonly admin: pg.Pool;
  /** Databases created and not yet dropped (dropped on exit, too). */
  readonly created = new Set<string>();

  constructor(
    private readonly baseUrl: string,
    private readonly log: (msg: string) => void,
  ) {
    this.admin = new pg.Pool({ connectionString: baseUrl, max: 2 });
  }

  urlFor(db: string): string {
    const u = new URL(this.baseUrl);
    u.pathname = `/${db}`;
    return u.toString();
  }

  async create(prefix: string): Promise<string> {
    const name = `bench_${prefix}_${randomBytes(4).toString('hex')}`;
    await this.admin.query(`CREATE DATABASE ${name}`);
    this.created.add(name);
    return name;
  }

  /** Drops a database; a client still connected after 3 s is a leak worth reporting. */
  async drop(name: string): Promise<void> {
    const deadline = performance.now() + 3000;
    let left: { pid: number; query: string }[] = [];
    for (;;) {
      left = (
        await this.admin.query<{ pid: number; query: string }>(
          'SELECT pid, left(query, 60) AS query FROM pg_stat_activity WHERE datname = $1',
          [name],
        )
      ).rows;
      if (left.length === 0 || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (left.length > 0)
      this.log(`${left.length} connection(s) still open on ${name}: ${JSON.stringify(left)}`);
    await this.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    this.created.delete(name);
  }

  /** Before timing: fresh statistics and a quiet WAL, the same for every system. */
  async settle(db: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.urlFor(db) });
    await c.connect();
    try {
      await c.query('VACUUM ANALYZE');
      await c.query('CHECKPOINT');
    } finally {
      await c.end();
    }
  }
}

/**
 * Runs a suite's main(): drops every bench database at the end, on error, and on Ctrl-C, and
 * makes sure a library that leaves a handle open cannot keep the process alive.
 */
export async function runSuite(
  dbs: BenchDatabases,
  log: (msg: string) => void,
  main: () => Promise<void>,
): Promise<void> {
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: dropping the bench databases');
    void Promise.all([...dbs.created].map((d) => dbs.drop(d).catch(() => undefined))).finally(() =>
      process.exit(130),
    );
  });
  try {
    await main();
  } catch (err) {
    if (!interrupted) {
      console.error(err);
      process.exitCode = 1;
    }
  } finally {
    for (const d of [...dbs.created]) await dbs.drop(d).catch(() => undefined);
    await dbs.admin.end();
    setTimeout(() => {
      log('some handle was still open 5 s after the end; exiting anyway');
      process.exit(process.exitCode ?? 0);
    }, 5000).unref();
  }
}
