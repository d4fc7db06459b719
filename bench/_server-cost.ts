// What a timed window cost the machine, beyond wall-clock time: CPU of the PostgreSQL server's
// processes, CPU of this (client) process, and WAL written. On a 2-core machine where the server
// is the bottleneck, server CPU per job says more about a design than jobs/s, which noise moves.
//
// Server CPU is read from /proc for every process named `postgres` (utime + stime + the CPU of
// children reaped, so backends that exit inside the window still count through the postmaster).
// It therefore needs the server on this machine; elsewhere it reports null.
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

const TICKS_PER_S = 100; // USER_HZ on Linux

function serverTicks(): number | null {
  let total = 0;
  let seen = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    const f = stat.slice(close + 2).split(' ');
    // After the name: state(3) … utime(14) stime(15) cutime(16) cstime(17), so index = field - 3.
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    seen++;
  }
  return seen > 0 ? total : null;
}

/** Per-unit costs of a window, or null where they could not be read. */
export interface WindowCost {
  server_cpu_us: number | null;
  client_cpu_us: number;
  wal_bytes: number;
}

/** Starts measuring; the returned function ends the window and divides by `units`. */
export async function startCostWindow(admin: pg.Pool): Promise<(units: number) => Promise<WindowCost>> {
  const lsn0 = (await admin.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
  const ticks0 = serverTicks();
  const cpu0 = process.cpuUsage();
  return async (units) => {
    const ticks1 = serverTicks();
    const cpu = process.cpuUsage(cpu0);
    const wal = (
      await admin.query<{ d: string }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS d',
        [lsn0],
      )
    ).rows[0].d;
    return {
      server_cpu_us:
        ticks0 === null || ticks1 === null ? null : ((ticks1 - ticks0) * 1e6) / TICKS_PER_S / units,
      client_cpu_us: (cpu.user + cpu.system) / units,
      wal_bytes: Number(wal) / units,
    };
  };
}
