// The machine's load around a bench run: printed before and after, a warning when a run starts on
// a busy machine, and the 1-minute figures for the suite's JSON line, so that a figure quoted in
// docs/performance.md can be seen to come from a quiet machine (or not).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Above this 1-minute load average at the start, a run's figures are flagged as from a busy machine. */
export const BUSY_LOAD = 1.5;

export interface LoadRecord {
  loadavg_1m_start: number;
  loadavg_1m_end: number;
}

const text = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Call at the start of a suite; `end()` at its end gives the JSON fields. */
export function watchLoad(log: (msg: string) => void): { end(): LoadRecord } {
  const start = loadavg();
  log(`load average at start ${text(start)} (1, 5, 15 min)`);
  if (start[0]! > BUSY_LOAD)
    log(
      `WARNING: the 1-minute load average is ${start[0]!.toFixed(2)}, above ${BUSY_LOAD}: this run's figures come from a busy machine`,
    );
  return {
    end() {
      const end = loadavg();
      log(`load average at end ${text(end)}`);
      return { loadavg_1m_start: round2(start[0]!), loadavg_1m_end: round2(end[0]!) };
    },
  };
}

/**
 * CPU time the whole machine spent busy (user, nice, system, irq, softirq) since the call, in ms,
 * from /proc/stat: every process of a run (the bench, its children, PostgreSQL) counts, whatever
 * the wall clock did. On a machine whose speed varies, CPU per unit of work is steadier than rate.
 */
export function machineCpu(): { busyMs(): number } {
  const read = (): number => {
    const [, user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .map(Number);
    return user! + nice! + system! + irq! + softirq!;
  };
  const start = read();
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return { busyMs: () => (read() - start) * tick };
}

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) : state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}
