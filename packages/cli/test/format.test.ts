// The workflow timeline `baton workflows show` prints, from history entries of every kind, and
// what `baton tasks send` prints.
import { describe, it, expect } from 'vitest';
import type { HistoryEntry } from '@baton/core';
import { workflowDetail, workflowTimeline, type DescribedWorkflow } from '../src/format.js';
import { sentText } from '../src/commands/tasks.js';
import type { TaskView } from '@baton/flows';

const t = (hms: string, date = '2026-11-22') => new Date(`${date}T${hms}Z`);

function entry(seq: number, e: Partial<HistoryEntry> & Pick<HistoryEntry, 'kind' | 'name'>): HistoryEntry {
  return {
    seq,
    status: 'completed',
    attempts: 1,
    input: null,
    output: null,
    error: null,
    startedAt: t('12:00:01'),
    finishedAt: t('12:00:01'),
    settled: null,
    ...e,
  };
}

function workflow(e: Partial<DescribedWorkflow>, history: HistoryEntry[]): DescribedWorkflow {
  return {
    id: 'order-1',
    kind: 'workflow',
    name: 'order',
    queue: 'orders',
    status: 'waiting',
    priority: 0,
    runAt: t('12:00:00'),
    attempts: 1,
    maxAttempts: 10,
    input: { order: 'A-1' },
    output: null,
    error: null,
    errors: [],
    progress: null,
    idempotencyKey: 'order-1',
    concurrencyKey: null,
    concurrencyLimit: null,
    parentId: null,
    workerId: null,
    cancelRequested: false,
    createdAt: t('12:00:00'),
    startedAt: t('12:00:00'),
    finishedAt: null,
    deadlineAt: null,
    runNumber: 1,
    ...e,
    history,
  };
}

describe('workflow timeline', () => {
  it('says what each entry did or waits for', () => {
    const wf = workflow({}, [
      entry(0, { kind: 'patch', name: 'v2' }),
      entry(1, {
        kind: 'step',
        name: 'charge',
        status: 'failed',
        attempts: 3,
        input: { amount: 1250, card: 'tok_visa' },
        error: { message: 'card declined', code: 'E_CARD' },
      }),
      entry(2, { kind: 'signal', name: 'approve', output: { timedOut: true } }),
      entry(3, {
        kind: 'signal',
        name: 'approve',
        output: { payload: { by: 'ada' } },
        startedAt: t('12:00:01'),
        finishedAt: t('12:00:03.500'),
      }),
      entry(4, { kind: 'event', name: 'stage', output: 'packing' }),
      entry(5, {
        kind: 'activity',
        name: 'pack',
        input: { items: ['book', 'lamp', 'a very long name for a small thing'] },
        output: { childId: 'order-1:5', result: { boxes: 2 } },
      }),
      entry(6, { kind: 'child', name: 'invoice', output: { childId: 'order-1:6' } }),
      entry(7, {
        kind: 'child',
        name: 'ship',
        status: 'waiting',
        finishedAt: null,
        output: { childId: 'order-1:7' },
      }),
      entry(8, {
        kind: 'sleep',
        name: 'sleep',
        status: 'waiting',
        finishedAt: null,
        output: { wakeAt: '2026-11-23T09:00:00.000Z' },
      }),
      entry(9, {
        kind: 'signal',
        name: 'cancel-order',
        status: 'waiting',
        finishedAt: null,
        output: { deadline: null },
      }),
    ]);
    expect(
      workflowTimeline(wf).map((l) => [l.kind, l.name, l.status, l.attempts, l.input, l.detail]),
    ).toEqual([
      ['workflow', 'order', 'started', null, '{"order":"A-1"}', ''],
      ['patch', 'v2', 'completed', null, '', 'change marker (patched)'],
      ['step', 'charge', 'failed', 3, '{"amount":1250,"card":"tok_visa"}', '[E_CARD] card declined'],
      ['signal', 'approve', 'completed', null, '', "timed out: no signal 'approve' came"],
      ['signal', 'approve', 'completed', null, '', 'received after 2.5 s: {"by":"ada"}'],
      ['event', 'stage', 'completed', null, '', 'set to "packing"'],
      [
        'activity',
        'pack',
        'completed',
        null,
        '{"items":["book","lamp","a very long na…',
        'order-1:5: {"boxes":2}',
      ],
      ['child', 'invoice', 'completed', null, '', 'started order-1:6'],
      ['child', 'ship', 'waiting', null, '', 'waiting for child workflow order-1:7'],
      ['sleep', 'sleep', 'waiting', null, '', 'sleeping until 2026-11-23 09:00:00'],
      ['signal', 'cancel-order', 'waiting', null, '', "waiting for signal 'cancel-order' (no timeout)"],
    ]);
    expect(workflowDetail(wf)).toMatch(
      /status: {6}waiting for child workflow order-1:7, sleeping until 2026-11-23 09:00:00, waiting for signal 'cancel-order' \(no timeout\)\n/,
    );
  });

  it('shows handles not awaited, the timeout and the runs before a continueAsNew', () => {
    const wf = workflow(
      {
        status: 'completed',
        output: 'done',
        finishedAt: t('12:00:05'),
        deadlineAt: t('14:00:00'),
        runNumber: 3,
        previousRuns: [
          { run: 2, input: { page: 2 }, startedAt: t('11:00:00'), finishedAt: t('11:30:00'), steps: 4 },
          { run: 1, input: { page: 1 }, startedAt: t('10:00:00'), finishedAt: t('11:00:00'), steps: 3 },
        ],
      },
      [
        entry(0, {
          kind: 'activity',
          name: 'report',
          status: 'waiting',
          finishedAt: null,
          output: { childId: 'order-1:r3:0', detached: true },
        }),
      ],
    );
    const lines = workflowTimeline(wf).map((l) => l.detail);
    expect(lines[1]).toBe('started activity order-1:r3:0; its result not asked for (yet)');
    const detail = workflowDetail(wf);
    expect(detail).toMatch(/timeout: {5}at 2026-11-22T14:00:00.000Z/);
    expect(detail).toMatch(/run: {9}3 \(continued as new 2 times\)/);
    expect(detail).toMatch(
      / {2}run 2: 2026-11-22T11:00:00.000Z → 2026-11-22T11:30:00.000Z, 4 entries, input \{"page":2\}/,
    );
  });

  it('ends with the final status, and marks waits a cancellation ended', () => {
    const wf = workflow({ status: 'cancelled', finishedAt: t('12:00:05') }, [
      entry(0, {
        kind: 'signal',
        name: 'approve',
        status: 'waiting',
        finishedAt: null,
        output: { deadline: '2026-11-22T13:00:00.000Z' },
      }),
    ]);
    const lines = workflowTimeline(wf);
    expect(lines[1].detail).toBe(
      "waiting for signal 'approve' (timeout 13:00:00); ended there: the workflow was cancelled",
    );
    expect(lines[2]).toMatchObject({ kind: 'workflow', status: 'cancelled', at: t('12:00:05') });
    const text = workflowDetail(wf);
    expect(text).toMatch(/status: {6}cancelled\n/);
    expect(text).toMatch(/ {2}12:00:05\.000 {2}workflow {2}order {4}cancelled$/m);
  });
});

describe('what `baton tasks send` prints', () => {
  // Only the fields sentText reads; the rest of a TaskView does not matter here.
  const sent = (v: Partial<TaskView>) =>
    sentText({ id: 't1', assigned_session: null, port: null, waiting_because: null, ...v } as TaskView);

  it('names the session for a task assigned at send, also when the session took it before the read', () => {
    expect(sent({ status: 'assigned', assigned_session: 'dev_worker2' })).toBe('t1: assigned to dev_worker2');
    expect(sent({ status: 'assigned', assigned_session: 'dev_worker2', port: 8101 })).toBe(
      't1: assigned to dev_worker2 (port 8101)',
    );
    expect(sent({ status: 'running', assigned_session: 'dev_worker2' }).split('\n')).toEqual([
      't1: assigned to dev_worker2',
      '(dev_worker2 has already taken it: running)',
    ]);
  });

  it('says why a task waits, and where to look', () => {
    expect(
      sent({ status: 'pending', waiting_because: 'no session can take a task now' }).split('\n'),
    ).toEqual([
      't1: pending — no session can take a task now',
      '(`baton tasks explain t1` says why; `baton architect` serves the queue)',
    ]);
  });
});
