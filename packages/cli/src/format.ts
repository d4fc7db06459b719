import type { Execution, HistoryEntry, PastRun, HistoryKind } from '@baton/core';

/** Left-aligned columns, as `baton jobs list` prints them. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function json(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

function errorText(error: { message: string; code?: string } | null | undefined): string {
  return error ? `${error.code ? `[${error.code}] ` : ''}${error.message}` : '';
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** UTC time of day, with the date in front when it is not the day of `ref`. */
function clock(d: Date, ref: Date, ms = false): string {
  const t = d.toISOString().slice(11, ms ? 23 : 19);
  return day(d) === day(ref) ? t : `${day(d)} ${t}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One line per execution. */
export function executionTable(list: Execution[]): string {
  return table(
    ['ID', 'NAME', 'QUEUE', 'STATUS', 'ATTEMPTS', 'CREATED', 'RESULT / ERROR'],
    list.map((e) => [
      e.id,
      e.name,
      e.queue,
      e.status,
      `${e.attempts}/${e.maxAttempts}`,
      e.createdAt.toISOString().replace('T', ' ').slice(0, 19),
      clip(e.status === 'completed' ? json(e.output) : (e.error?.message ?? ''), 60),
    ]),
  );
}

/** Everything about one execution, with its attempts as a timeline. */
export function executionDetail(e: Execution): string {
  const at = (d: Date | null) => (d ? d.toISOString() : '-');
  const lines = [
    `id:          ${e.id}`,
    `job:         ${e.name} (${e.kind})`,
    `queue:       ${e.queue}   priority ${e.priority}`,
    `status:      ${e.status}${e.cancelRequested && e.status === 'running' ? ' (cancel requested)' : ''}`,
    `attempts:    ${e.attempts} of ${e.maxAttempts}`,
    `input:       ${json(e.input)}`,
  ];
  if (e.status === 'completed') lines.push(`output:      ${json(e.output)}`);
  if (e.progress !== null) lines.push(`progress:    ${json(e.progress)}`);
  if (e.idempotencyKey) lines.push(`idem. key:   ${e.idempotencyKey}`);
  if (e.concurrencyKey) lines.push(`conc. key:   ${e.concurrencyKey} (limit ${e.concurrencyLimit})`);
  if (e.workerId) lines.push(`worker:      ${e.workerId}`);
  lines.push('timeline:');
  const events: [string, string][] = [[at(e.createdAt), 'enqueued']];
  for (const err of e.errors) {
    events.push([
      err.at ?? '',
      `attempt ${err.attempt ?? '?'} failed: ${err.code ? `[${err.code}] ` : ''}${err.message}`,
    ]);
  }
  if (e.startedAt) events.push([at(e.startedAt), `attempt ${e.attempts} started`]);
  if (e.status === 'queued') events.push([at(e.runAt), 'due to run']);
  if (e.finishedAt) events.push([at(e.finishedAt), e.status]);
  events.sort((a, b) => a[0].localeCompare(b[0]));
  for (const [when, what] of events) lines.push(`  ${when.padEnd(24)}  ${what}`);
  return lines.join('\n');
}

/** A workflow execution as `Client.describe` returns it. */
export type DescribedWorkflow = Execution & { history: HistoryEntry[]; previousRuns?: PastRun[] };

/** One line of a workflow's timeline: its start, each history entry, and its end. */
export interface TimelineLine {
  at: Date;
  kind: HistoryKind | 'workflow';
  name: string;
  /** A history status (waiting, completed, failed), or for the workflow lines its own status. */
  status: string;
  /** Attempts of a step; null for other lines. */
  attempts: number | null;
  /** What the entry was given (a step's declared input, an activity's or child's input, the workflow's input), clipped; '' if none. */
  input: string;
  /** Output, error, or what the entry waits for, already clipped. */
  detail: string;
}

const FINISHED = ['completed', 'failed', 'cancelled'];

/** What a waiting entry waits for: `sleeping until 12:00:03`, `waiting for signal 'approve' (timeout 12:30:00)`. */
function waitText(h: HistoryEntry, ref: Date): string {
  const out = (h.output ?? {}) as { wakeAt?: string; deadline?: string | null };
  if (h.kind === 'sleep' && out.wakeAt) return `sleeping until ${clock(new Date(out.wakeAt), ref)}`;
  if (h.kind === 'signal') {
    return `waiting for signal '${h.name}' (${out.deadline ? `timeout ${clock(new Date(out.deadline), ref)}` : 'no timeout'})`;
  }
  const child = childOf(h);
  const noun = h.kind === 'activity' ? 'activity' : 'child workflow';
  if (child && detached(h)) return `started ${noun} ${child}; its result not asked for (yet)`;
  if (child) return `waiting for ${noun} ${child}`;
  return 'waiting';
}

/** An activity or child started with a handle (startActivity, startChild) whose result() was not awaited. */
function detached(h: HistoryEntry): boolean {
  return (h.output as { detached?: boolean } | null)?.detached === true;
}

/** The execution an activity or child entry started. */
function childOf(h: HistoryEntry): string | undefined {
  if (h.kind !== 'activity' && h.kind !== 'child') return undefined;
  return (h.output as { childId?: string } | null)?.childId;
}

function entryDetail(h: HistoryEntry, e: Execution): string {
  const ref = e.createdAt;
  const child = childOf(h);
  if (h.status === 'failed') return clip(`${child ? `${child}: ` : ''}${errorText(h.error)}`, 80);
  if (h.status === 'waiting') {
    const what = waitText(h, ref);
    if (!FINISHED.includes(e.status) || detached(h)) return what;
    return `${what}; ended there: the workflow ${e.status === 'cancelled' ? 'was cancelled' : e.status}`;
  }
  if (h.kind === 'sleep') {
    const out = (h.output ?? {}) as { wakeAt?: string };
    return out.wakeAt ? `slept until ${clock(new Date(out.wakeAt), ref)}` : '';
  }
  if (h.kind === 'signal') {
    const out = (h.output ?? {}) as { payload?: unknown; timedOut?: boolean };
    if (out.timedOut) return `timed out: no signal '${h.name}' came`;
    const after = h.finishedAt ? ` after ${seconds(h.finishedAt.getTime() - h.startedAt.getTime())}` : '';
    return out.payload === null || out.payload === undefined
      ? `received${after} (no payload)`
      : clip(`received${after}: ${json(out.payload)}`, 80);
  }
  if (child) {
    const out = h.output as { result?: unknown };
    // startChild records the start only; ctx.run and runChild record the result when it comes.
    return clip('result' in out ? `${child}: ${json(out.result) || 'null'}` : `started ${child}`, 80);
  }
  if (h.kind === 'patch') return 'change marker (patched)';
  if (h.kind === 'event') return clip(`set to ${json(h.output) || 'null'}`, 80);
  return clip(json(h.output), 80);
}

/** The entry or entries a waiting workflow is waiting on, as text; '' if none. */
export function waitingOn(e: DescribedWorkflow): string {
  return e.history
    .filter((h) => h.status === 'waiting' && !detached(h))
    .map((h) => waitText(h, e.createdAt))
    .join(', ');
}

/** A workflow's timeline as data: what `baton workflows show` prints (and the dashboard mirrors). */
export function workflowTimeline(e: DescribedWorkflow): TimelineLine[] {
  const lines: TimelineLine[] = [
    {
      at: e.createdAt,
      kind: 'workflow',
      name: e.name,
      status: 'started',
      attempts: null,
      input: clip(json(e.input) || 'null', 40),
      detail: '',
    },
  ];
  for (const h of e.history) {
    lines.push({
      at: h.startedAt,
      kind: h.kind,
      name: h.name,
      status: h.status,
      attempts: h.kind === 'step' ? h.attempts : null,
      input: h.input === null ? '' : clip(json(h.input) || 'null', 40),
      detail: entryDetail(h, e),
    });
  }
  if (e.finishedAt && FINISHED.includes(e.status)) {
    lines.push({
      at: e.finishedAt,
      kind: 'workflow',
      name: e.name,
      status: e.status,
      attempts: null,
      input: '',
      detail:
        e.status === 'completed'
          ? clip(`output ${json(e.output) || 'null'}`, 80)
          : clip(errorText(e.error), 80),
    });
  }
  return lines;
}

/** The timeline as text: one line per entry (time of day in UTC, kind, name, status, attempts, input, detail). */
export function timelineText(e: DescribedWorkflow): string {
  return table(
    ['TIME (UTC)', 'KIND', 'NAME', 'STATUS', 'ATTEMPTS', 'INPUT', 'DETAIL'],
    workflowTimeline(e).map((l) => [
      clock(l.at, e.createdAt, true),
      l.kind,
      l.name,
      l.status,
      l.attempts === null ? '' : String(l.attempts),
      l.input,
      l.detail,
    ]),
  );
}

/** One line per workflow execution. */
export function workflowTable(list: Execution[]): string {
  return table(
    ['ID', 'WORKFLOW', 'QUEUE', 'STATUS', 'CREATED', 'RESULT / ERROR'],
    list.map((e) => [
      e.id,
      e.name,
      e.queue,
      e.status,
      e.createdAt.toISOString().replace('T', ' ').slice(0, 19),
      clip(e.status === 'completed' ? json(e.output) : errorText(e.error), 60),
    ]),
  );
}

/** Everything about one workflow execution, with its history as a timeline. */
export function workflowDetail(e: DescribedWorkflow): string {
  const waiting = e.status === 'waiting' ? waitingOn(e) : '';
  let status: string = e.status;
  if (waiting) status = waiting.startsWith('waiting ') ? waiting : `waiting: ${waiting}`;
  if (e.cancelRequested && e.status === 'running') status += ' (cancel requested)';
  const lines = [
    `id:          ${e.id}`,
    `workflow:    ${e.name}`,
    `queue:       ${e.queue}   priority ${e.priority}`,
    `status:      ${status}`,
    `started:     ${e.createdAt.toISOString()}`,
  ];
  if (e.finishedAt && FINISHED.includes(e.status)) lines.push(`finished:    ${e.finishedAt.toISOString()}`);
  lines.push(`input:       ${json(e.input) || 'null'}`);
  if (e.status === 'completed') lines.push(`output:      ${json(e.output) || 'null'}`);
  if (e.error && e.status !== 'completed') lines.push(`error:       ${errorText(e.error)}`);
  if (e.attempts > 1)
    lines.push(
      `runs:        ${e.attempts} of at most ${e.maxAttempts} (a run cut short by a crash is replayed)`,
    );
  if (e.deadlineAt) lines.push(`timeout:     at ${e.deadlineAt.toISOString()}`);
  if (e.runNumber > 1) {
    const past = e.previousRuns ?? [];
    lines.push(
      `run:         ${e.runNumber} (continued as new ${e.runNumber - 1} time${e.runNumber === 2 ? '' : 's'})`,
    );
    for (const r of past.slice(0, 5))
      lines.push(
        `  run ${r.run}: ${r.startedAt.toISOString()} → ${r.finishedAt.toISOString()}, ${r.steps} entries, input ${clip(json(r.input) || 'null', 60)}`,
      );
    if (past.length > 5) lines.push(`  … ${past.length - 5} earlier runs (--json lists them)`);
  }
  if (e.workerId) lines.push(`worker:      ${e.workerId}`);
  lines.push('timeline:');
  for (const line of timelineText(e).split('\n')) lines.push(`  ${line}`);
  return lines.join('\n');
}
