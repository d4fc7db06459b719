// The embedded phase: a process writing to PGlite is SIGKILLed again and again; after each kill the
// data directory must open without repair and hold everything the process saw committed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, createLogger } from '../../src/index.js';

const SCRIPT = fileURLToPath(new URL('./embedded-child.ts', import.meta.url));

export interface EmbeddedReport {
  kills: number;
  executions: number;
  lost: number;
  violations: string[];
}

interface Committed {
  enqueued: Set<string>;
  done: Map<string, string>;
  steps: Map<string, string>;
}

/** Runs the writer until `killAfterMs` (then SIGKILL), or in drain mode until it exits by itself. */
function runWriter(dataDir: string, seen: Committed, killAfterMs?: number): Promise<number | null> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SCRIPT, dataDir, ...(killAfterMs ? [] : ['drain'])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let buf = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const line of lines) {
      const [tag, ...rest] = line.split(' ');
      if (tag === 'ready' && killAfterMs) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (tag === 'enq') for (const id of rest) seen.enqueued.add(id);
      else if (tag === 'done') seen.done.set(rest[0], rest.slice(1).join(' '));
      else if (tag === 'step') seen.steps.set(`${rest[0]}#${rest[1]}`, rest.slice(2).join(' '));
    }
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(code);
      else reject(new Error(`embedded writer exited with ${code ?? signal}: ${err.slice(-2000)}`));
    }),
  );
}

/** Opens the directory as a fresh process would, and compares it with what was seen committed. */
async function verify(
  dataDir: string,
  seen: Committed,
  violations: string[],
): Promise<{ lost: number; total: number }> {
  let store: Store;
  try {
    store = await Store.open({ dataDir, logger: createLogger('silent') });
    await store.checkSchema();
  } catch (err) {
    violations.push(`embedded: the data directory did not open after a kill: ${(err as Error).message}`);
    return { lost: seen.enqueued.size, total: 0 };
  }
  try {
    const rows = await store.driver.query<{ id: string; status: string; output: string | null }>(
      'SELECT id, status, output::text AS output FROM baton.executions',
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    let lost = 0;
    for (const id of seen.enqueued) {
      if (!byId.has(id)) {
        lost++;
        if (lost <= 5) violations.push(`embedded: execution ${id} was acknowledged but is gone after a kill`);
      }
    }
    for (const [id, output] of seen.done) {
      const r = byId.get(id);
      if (r && (r.status !== 'completed' || r.output !== output))
        violations.push(`embedded: ${id} was completed with ${output}, now ${r.status} with ${r.output}`);
    }
    const hist = await store.driver.query<{ key: string; status: string; output: string }>(
      `SELECT execution_id || '#' || seq AS key, status, output::text AS output FROM baton.history`,
    );
    const steps = new Map(hist.map((h) => [h.key, h]));
    for (const [key, output] of seen.steps) {
      const h = steps.get(key);
      if (!h || h.status !== 'completed' || h.output !== output)
        violations.push(
          `embedded: history ${key} was completed with ${output}, now ${h ? `${h.status} ${h.output}` : 'gone'}`,
        );
    }
    return { lost, total: rows.length };
  } finally {
    await store.close();
  }
}

/** Kills the writer `kills` times, verifying after each; then drains and checks every execution finished. */
export async function embeddedPhase(
  kills: number,
  rng: () => number,
  log: (line: string) => void,
): Promise<EmbeddedReport> {
  const root = mkdtempSync(join(tmpdir(), 'baton-faults-'));
  const dataDir = join(root, 'db');
  const seen: Committed = { enqueued: new Set(), done: new Map(), steps: new Map() };
  const violations: string[] = [];
  let lost = 0;
  let total = 0;
  try {
    for (let k = 1; k <= kills; k++) {
      const ms = Math.round(300 + rng() * 2500);
      await runWriter(dataDir, seen, ms);
      const v = await verify(dataDir, seen, violations);
      lost = Math.max(lost, v.lost);
      total = v.total;
      log(
        `embedded kill ${k}/${kills}: SIGKILL ${ms} ms after start; reopened with ${v.total} executions, ${v.lost} lost`,
      );
    }
    await runWriter(dataDir, seen);
    const v = await verify(dataDir, seen, violations);
    lost = Math.max(lost, v.lost);
    total = v.total;
    const store = await Store.open({ dataDir, logger: createLogger('silent') });
    try {
      const open = await store.driver.query<{ id: string; status: string }>(
        `SELECT id, status FROM baton.executions WHERE status <> 'completed'`,
      );
      for (const o of open.slice(0, 5))
        violations.push(`embedded: ${o.id} ended ${o.status} after the drain`);
    } finally {
      await store.close();
    }
    return { kills, executions: total, lost, violations };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
