// The faults themselves. Each injector does one thing to the running system and says what it did.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Queryable } from '../../src/index.js';
import type { Cluster, WorkerProc } from './cluster.js';
import { retrying, type Traffic } from './traffic.js';

const run = promisify(execFile);

export type FaultKind =
  | 'kill'
  | 'kill-mid-claim'
  | 'kill-after-effect'
  | 'pause'
  | 'deploy'
  | 'terminate-connections'
  | 'lose-reply'
  | 'pg-restart'
  | 'pg-crash-restart'
  | 'step-past-lease'
  | 'signal-burst'
  | 'cancel-burst';

/** Application name of the workers' connections, so that only theirs are terminated. */
export const WORKER_APP = 'baton-fault-worker';

/**
 * How to restart the PostgreSQL server the suite runs on, when this process may: the server is
 * this machine's Debian cluster and we are root (pg_ctlcluster). Undefined otherwise, and the
 * suite says the restart faults were not injected.
 */
export function serverControl(
  url: string,
): { restart(mode: 'fast' | 'immediate'): Promise<void> } | undefined {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', ''].includes(host)) return undefined;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/etc/postgresql'))
    return undefined;
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) return undefined;
  return {
    async restart(mode) {
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart', '-m', mode], {
        timeout: 120_000,
      });
    },
  };
}

export interface FaultContext {
  cluster: Cluster;
  traffic: Traffic;
  /** The orchestrator's own connection to the fault database. */
  db: Queryable;
  leaseMs: number;
  rng: () => number;
  server: ReturnType<typeof serverControl>;
}

/** What an injector reports for the log. An armed kill is counted when the process dies of it. */
export interface Injected {
  detail: string;
}

/** A random worker that is up and ready (its signal handlers are installed), paused ones only if `unpaused` is false. */
function anyWorker(c: FaultContext, unpaused = true): WorkerProc | undefined {
  const live = c.cluster.live().filter((p) => p.id && (!unpaused || !p.paused));
  return live.length ? live[Math.floor(c.rng() * live.length)] : undefined;
}

/**
 * Injects one fault of `kind`. Returns undefined when it could not be injected now (no worker to
 * hit, say), so the scheduler picks another.
 */
export async function inject(kind: FaultKind, c: FaultContext): Promise<Injected | undefined> {
  switch (kind) {
    case 'kill': {
      const p = anyWorker(c, false);
      if (!p) return undefined;
      await c.cluster.kill(p);
      return { detail: `SIGKILL worker ${p.pid}${p.paused ? ' (while paused)' : ''}` };
    }
    case 'kill-mid-claim': {
      const p = anyWorker(c);
      if (!p) return undefined;
      p.armed = kind;
      p.child.kill('SIGUSR1');
      return { detail: `armed worker ${p.pid} to die while its next claim is outstanding` };
    }
    case 'kill-after-effect': {
      const p = anyWorker(c);
      if (!p) return undefined;
      p.armed = kind;
      p.child.kill('SIGUSR2');
      return { detail: `armed worker ${p.pid} to die between its next side effect and its checkpoint` };
    }
    case 'pause': {
      // One zombie at a time, so that some worker always makes progress.
      if (c.cluster.live().some((p) => p.paused)) return undefined;
      const p = anyWorker(c);
      if (!p) return undefined;
      const ms = Math.round(c.leaseMs * (1.5 + c.rng() * 1.5));
      c.cluster.pause(p);
      setTimeout(() => p.alive && c.cluster.resume(p), ms);
      return { detail: `SIGSTOP worker ${p.pid} for ${ms} ms, then SIGCONT` };
    }
    case 'deploy': {
      const p = anyWorker(c);
      if (!p) return undefined;
      p.child.kill('SIGTERM');
      return { detail: `SIGTERM worker ${p.pid} (graceful stop, as in a deploy)` };
    }
    case 'lose-reply': {
      const p = anyWorker(c);
      if (!p) return undefined;
      p.child.kill('SIGHUP');
      return { detail: `worker ${p.pid} loses the reply to its next engine statement after it commits` };
    }
    case 'terminate-connections': {
      const rows = await retrying(() =>
        c.db.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM (
             SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1 ORDER BY random() LIMIT $2) t`,
          [WORKER_APP, 1 + Math.floor(c.rng() * 6)],
        ),
      );
      return rows[0].n > 0
        ? { detail: `pg_terminate_backend on ${rows[0].n} worker connections` }
        : undefined;
    }
    case 'pg-restart':
    case 'pg-crash-restart': {
      if (!c.server) return undefined;
      const mode = kind === 'pg-restart' ? 'fast' : 'immediate';
      const t = Date.now();
      await c.server.restart(mode);
      return { detail: `PostgreSQL restarted (-m ${mode}) in ${Date.now() - t} ms` };
    }
    case 'step-past-lease': {
      const blockMs = Math.round(c.leaseMs * 2.5);
      const id = await c.traffic.startBlocker(blockMs);
      return { detail: `started ${id}: its step blocks its worker's event loop for ${blockMs} ms` };
    }
    case 'signal-burst': {
      const n = await c.traffic.burstSignals(20);
      return n > 0 ? { detail: `burst of ${n} signals` } : undefined;
    }
    case 'cancel-burst': {
      const n = await c.traffic.burstCancels(4, 12);
      return n > 0 ? { detail: `burst of ${n} cancellations` } : undefined;
    }
  }
}

/** Relative frequency of each fault the scheduler draws (server restarts are scheduled separately). */
export const WEIGHTS: [FaultKind, number][] = [
  ['kill', 3],
  ['kill-mid-claim', 2],
  ['kill-after-effect', 2],
  ['pause', 2],
  ['deploy', 1],
  ['terminate-connections', 2],
  ['lose-reply', 2],
  ['step-past-lease', 1],
  ['signal-burst', 1],
  ['cancel-burst', 1],
];

export function drawFault(rng: () => number): FaultKind {
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [kind, w] of WEIGHTS) {
    r -= w;
    if (r < 0) return kind;
  }
  return WEIGHTS[0][0];
}
