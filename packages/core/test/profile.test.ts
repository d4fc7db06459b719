// Profiles computed from an execution's row and history: figures for a job, for a workflow whose
// operations overlap, with children ending before the workflow took their results; percentiles.
import { describe, expect, it } from 'vitest';
import { profileExecution, profilePercentiles, type Execution, type HistoryEntry } from '../src/index.js';

const t0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const at = (ms: number) => new Date(t0 + ms);

function execution(over: Partial<Execution>): Execution {
  return {
    id: 'e1',
    kind: 'job',
    name: 'n',
    queue: 'q',
    status: 'completed',
    priority: 0,
    runAt: at(0),
    attempts: 1,
    maxAttempts: 3,
    input: null,
    output: null,
    error: null,
    errors: [],
    progress: null,
    idempotencyKey: null,
    concurrencyKey: null,
    concurrencyLimit: null,
    parentId: null,
    workerId: null,
    cancelRequested: false,
    createdAt: at(0),
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    runNumber: 1,
    ...over,
  };
}

function entry(
  seq: number,
  kind: HistoryEntry['kind'],
  start: number,
  end: number | null,
  output: unknown = null,
): HistoryEntry {
  return {
    seq,
    kind,
    name: `${kind}-${seq}`,
    status: end === null ? 'waiting' : 'completed',
    attempts: 1,
    input: null,
    output,
    error: null,
    startedAt: at(start),
    finishedAt: end === null ? null : at(end),
    settled: null,
  };
}

describe('profileExecution', () => {
  it('a job: scheduled delay, claim delay and run time of its latest attempt', () => {
    const p = profileExecution(execution({ runAt: at(1000), startedAt: at(1250), finishedAt: at(1750) }), []);
    expect(p.totalMs).toBe(1750);
    expect(p.figures).toMatchObject({ scheduled: 1000, claim: 250, run: 500, steps: 0, engine: 0 });
  });

  it('a workflow: steps, a sleep, overlapping activities until each child ended, and the engine time between', () => {
    const wf = execution({
      id: 'w',
      kind: 'workflow',
      runAt: at(5000),
      createdAt: at(0),
      finishedAt: at(1000),
    });
    const history = [
      entry(0, 'step', 10, 60),
      entry(1, 'activity', 60, 400, { childId: 'w:1' }),
      entry(2, 'activity', 60, 300, { childId: 'w:2' }),
      entry(3, 'sleep', 500, 800),
      entry(4, 'step', 820, 900),
    ];
    const children = [
      execution({ id: 'w:1', finishedAt: at(350) }),
      execution({ id: 'w:2', finishedAt: at(250) }),
    ];
    const p = profileExecution(wf, history, children);
    expect(p.figures).toMatchObject({
      scheduled: 0,
      claim: 10,
      steps: 50 + 80,
      activities: 290 + 190,
      suspended: 300,
    });
    // covered: 10–350, 500–800, 820–900 → 340 + 300 + 80 = 720 of the 990 from the first operation on
    expect(p.figures.engine).toBe(990 - 720);
    expect(p.operations.map((o) => [o.seq, o.startMs, o.durationMs])).toEqual([
      [0, 10, 50],
      [1, 60, 290],
      [2, 60, 190],
      [3, 500, 300],
      [4, 820, 80],
    ]);
  });

  it('a running workflow counts up to now, and a waiting operation has no duration yet', () => {
    const p = profileExecution(
      execution({ kind: 'workflow', status: 'waiting' }),
      [entry(0, 'signal', 100, null)],
      [],
      at(600),
    );
    expect(p.totalMs).toBe(600);
    expect(p.figures.suspended).toBe(500);
    expect(p.operations[0]!.durationMs).toBeNull();
  });

  it('percentiles by nearest rank over many profiles', () => {
    const profiles = [100, 200, 300, 400, 1000].map((d) =>
      profileExecution(execution({ startedAt: at(0), finishedAt: at(d) }), []),
    );
    const pct = profilePercentiles(profiles);
    expect(pct.run).toEqual({ p50: 300, p90: 1000, p99: 1000, max: 1000 });
    expect(pct.total.p50).toBe(300);
  });
});
