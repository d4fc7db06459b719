// Engine tests create a PostgreSQL database per store (packages/core/test/backends.ts). This names
// them for this run and drops them when the run ends, so test databases do not pile up on the server.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function setup(): () => Promise<void> {
  const run = `baton_t_${randomBytes(3).toString('hex')}`;
  process.env.BATON_TEST_DB_PREFIX = run;
  return async () => {
    const url = process.env.BATON_PG_URL;
    if (!url) return;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${run}_%`],
      );
      for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
}
