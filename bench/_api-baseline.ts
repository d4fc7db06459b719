// The baseline of `npm run bench -- api`: the single-execution read with nothing around it, a bare
// node:http server and a pg pool of the store's default size, the same columns and a JSON reply.
// Prints its URL; stops on SIGTERM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

const COLUMNS = `id, kind, name, queue, status, priority, run_at, attempts, max_attempts, input, output,
  error, errors, progress, idempotency_key, concurrency_key, concurrency_limit, parent_id, lease_owner,
  cancel_requested, created_at, started_at, finished_at, deadline_at, run`;

const pool = new pg.Pool({ connectionString: process.env.BENCH_API_DATABASE_URL, max: 10 });
const server = createServer((req, res) => {
  const m = /^\/api\/executions\/([^/?]+)$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  pool
    .query({ name: 'get', text: `SELECT ${COLUMNS} FROM baton.executions WHERE id = $1`, values: [m[1]] })
    .then(
      (r) => {
        if (!r.rows.length) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r.rows[0]));
      },
      () => res.writeHead(500).end(),
    );
});
server.listen(0, '127.0.0.1', () => {
  console.log(`baseline on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
