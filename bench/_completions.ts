// The moment a workflow is durably done, seen in-process: the worker's completion statement
// (completeMany, named baton_complete*) returned with the workflow's id among those it recorded.
// Bench-side only: it wraps the store driver's query. Shared by the workflows and flows suites.
import { performance } from 'node:perf_hooks';
import type { Store } from '@baton/core';

/** `done(id)`: a promise of the performance.now() at which `id`'s completion was recorded. */
export function watchCompletions(store: Store): { done(id: string): Promise<number> } {
  const waiters = new Map<string, (t: number) => void>();
  const driver = store.driver as unknown as {
    query: (sql: string, params?: readonly unknown[], name?: string) => Promise<unknown[]>;
  };
  const original = driver.query.bind(driver);
  driver.query = async (sql, params, name) => {
    const rows = await original(sql, params, name);
    if (name?.startsWith('baton_complete')) {
      // completeMany: its first parameter is the batch's attempt numbers, a JSON object keyed by
      // id; the reply lists the ids not recorded.
      const t = performance.now();
      const missed = new Set((rows as { missed: string[] }[])[0]?.missed ?? []);
      for (const id of Object.keys(JSON.parse(params![0] as string) as object)) {
        if (missed.has(id)) continue;
        const w = waiters.get(id);
        if (w) {
          waiters.delete(id);
          w(t);
        }
      }
    }
    return rows;
  };
  return {
    done: (id) => new Promise<number>((resolve) => waiters.set(id, resolve)),
  };
}
