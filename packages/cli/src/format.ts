import type { Execution } from '@baton/core';

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

/** One line per execution. */
export function executionTable(list: Execution[]): string {
  return table(
    ['ID', 'JOB', 'QUEUE', 'STATUS', 'ATTEMPTS', 'CREATED', 'RESULT / ERROR'],
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
