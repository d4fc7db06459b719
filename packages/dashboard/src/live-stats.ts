// What the overview charts: per second, executions completed and failed, and the time from being
// queued to finishing for those the page saw queued. Counted from the event stream, so an open
// dashboard adds no query to the database.
import { useEffect, useState } from 'react';
import { subscribeLive } from './live';

const WINDOW_S = 120;
const TRACKED_MAX = 20_000;

export interface LiveStats {
  /** [seconds, completed/s, failed/s, p50 ms] over the last two minutes. */
  series: (number | null)[][];
  completed: number;
  failed: number;
}

export function useLiveStats(): LiveStats {
  const [stats, setStats] = useState<LiveStats>({ series: [[], [], [], []], completed: 0, failed: 0 });
  useEffect(() => {
    const buckets = new Map<number, { completed: number; failed: number; latencies: number[] }>();
    const queuedAt = new Map<string, number>();
    let completed = 0;
    let failed = 0;
    const bucket = (s: number) => {
      let b = buckets.get(s);
      if (!b) buckets.set(s, (b = { completed: 0, failed: 0, latencies: [] }));
      return b;
    };
    const unsubscribe = subscribeLive((m) => {
      if (m.type !== 'events') return;
      for (const e of m.events) {
        if (e.type !== 'execution') continue;
        const t = Date.parse(e.at);
        if (e.status === 'queued') {
          if (queuedAt.size >= TRACKED_MAX) queuedAt.clear();
          queuedAt.set(e.id, t);
        } else if (e.status === 'completed' || e.status === 'failed') {
          const b = bucket(Math.floor(t / 1000));
          if (e.status === 'completed') {
            b.completed++;
            completed++;
          } else {
            b.failed++;
            failed++;
          }
          const q = queuedAt.get(e.id);
          if (q !== undefined) {
            b.latencies.push(t - q);
            queuedAt.delete(e.id);
          }
        }
      }
    });
    const tick = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      const xs: number[] = [];
      const ok: number[] = [];
      const bad: number[] = [];
      const p50: (number | null)[] = [];
      for (let s = now - WINDOW_S; s < now; s++) {
        const b = buckets.get(s);
        xs.push(s);
        ok.push(b?.completed ?? 0);
        bad.push(b?.failed ?? 0);
        const l = b?.latencies.slice().sort((a, c) => a - c);
        p50.push(l?.length ? l[Math.floor((l.length - 1) / 2)]! : null);
      }
      for (const s of buckets.keys()) if (s < now - WINDOW_S) buckets.delete(s);
      setStats({ series: [xs, ok, bad, p50], completed, failed });
    }, 1000);
    return () => {
      unsubscribe();
      clearInterval(tick);
    };
  }, []);
  return stats;
}
