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
