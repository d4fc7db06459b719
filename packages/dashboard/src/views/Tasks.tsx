import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api';
import { IfRole, Problem } from '../components';
import { duration, relativeTime } from '../format';
import {
  formatCell,
  priorityColor,
  refreshMs,
  statusColor,
  useUiConfig,
  type Column,
  type TableConfig,
  type UiConfig,
} from '../ui-config';

interface SlaTask {
  task_id: string;
  task_type: string;
  status: string;
  session: string | null;
  paused: boolean;
  target_minutes: number;
  elapsed_minutes: number;
  percent_used: number;
  severity: 'ok' | 'warning' | 'critical';
  color?: string;
}

interface Alert {
  id: number;
  task_id: string;
  severity: string;
  message: string;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

interface SlaReport {
  now: string;
  tasks: SlaTask[];
  queue_depth: number;
  queue_depth_ema: number | null;
  open_alerts: Alert[];
}

interface Task {
  id: string;
  type: string;
  prompt: string;
  priority: number;
  status: string;
  assigned_session: string | null;
  waiting_because: string | null;
  created_at: string;
}

/** The rule's colour when it names one; otherwise the severity's. */
const SEVERITY_COLOR = { ok: '#2e7d32', warning: '#f9a825', critical: '#c62828' } as const;
const colorOf = (t: SlaTask) => t.color ?? SEVERITY_COLOR[t.severity];

/** The task queue with its SLA clocks (refreshed every 5 s: the clocks run without any event), and open alerts. */
/** A cell as its column says: formatted, and in the theme's colour when colour-coded. */
function Cell({ task, column, ui }: { task: Task; column: Column; ui: UiConfig | undefined }) {
  const value = (task as unknown as Record<string, unknown>)[column.field];
  const text = formatCell(value, column.format);
  if (!column.color_coded) return <>{text}</>;
  const color =
    column.field === 'priority' ? priorityColor(ui, Number(value)) : statusColor(ui, String(value ?? ''));
  return (
    <span className="badge" style={color ? { background: color } : undefined} data-color={color}>
      {text}
    </span>
  );
}

const field = (t: Task, name: string) => (t as unknown as Record<string, unknown>)[name];

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

/** A column filters by value when its open tasks have few distinct values (a type, a status, a priority). */
const MAX_CHOICES = 20;
/** Columns no one filters by a picked value: unique ids and times. */
const UNFILTERED_FORMATS = new Set(['relative_time', 'datetime', 'date', 'time', 'duration']);

/** Each filterable column's values, as their cells show them. */
function filterChoices(tasks: readonly Task[], columns: readonly Column[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of columns) {
    if (c.field === 'id' || UNFILTERED_FORMATS.has(c.format ?? 'text')) continue;
    const values = new Set(tasks.map((t) => formatCell(field(t, c.field), c.format)));
    if (values.size > 0 && values.size <= MAX_CHOICES)
      out.set(
        c.field,
        [...values].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
      );
  }
  return out;
}

export function Tasks() {
  const client = useQueryClient();
  const ui = useUiConfig();
  const every = refreshMs(ui, 'tasks', 5000);
  const sla = useQuery({
    queryKey: ['sla'],
    queryFn: () => api<SlaReport>('/api/sla'),
    refetchInterval: every,
  });
  const tasks = useQuery({
    queryKey: ['tasks'],
    queryFn: () => api<{ items: Task[] }>('/api/tasks?status=pending,assigned,running&limit=1000'),
    refetchInterval: every,
  });
  const table: TableConfig = ui?.table_configs.tasks ?? { columns: [{ field: 'id' }, { field: 'status' }] };
  const [chosenSort, setSort] = useState<{ field: string; order: 'asc' | 'desc' }>();
  const sort =
    chosenSort ?? (table.default_sort ? { order: 'asc' as const, ...table.default_sort } : undefined);
  const [search, setSearch] = useState('');
  // enable_filters: a chosen value per column (as the cell shows it).
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [page, setPage] = useState(0);
  const toggleSort = (name: string) =>
    setSort({ field: name, order: sort?.field === name && sort.order === 'desc' ? 'asc' : 'desc' });
  const needle = search.trim().toLowerCase();
  const open = tasks.data?.items ?? [];
  const choices = table.enable_filters ? filterChoices(open, table.columns) : new Map<string, string[]>();
  const rows = open
    .filter(
      (t) =>
        table.columns.every(
          // A value no open task has any more is dropped from the choices, and from the filter.
          (c) =>
            !choices.get(c.field)?.includes(chosen[c.field] ?? '') ||
            formatCell(field(t, c.field), c.format) === chosen[c.field],
        ) &&
        (!needle ||
          table.columns.some((c) => formatCell(field(t, c.field), c.format).toLowerCase().includes(needle))),
    )
    .sort((a, b) => {
      if (!sort) return 0;
      const d = compare(field(a, sort.field), field(b, sort.field));
      return sort.order === 'asc' ? d : -d;
    });
  const size = table.page_size ?? 50;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  // The list may have shrunk under the page the user was on.
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * size, (current + 1) * size);
  const ack = useMutation({
    mutationFn: (id: number) => api(`/api/alerts/${id}/acknowledge`, { method: 'POST' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['sla'] }),
  });
  const byId = new Map((sla.data?.tasks ?? []).map((t) => [t.task_id, t]));

  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">{ui?.dashboard_panels.find((p) => p.id === 'tasks')?.title ?? 'Task queue'}</h1>
      {sla.error ? <Problem error={sla.error} /> : null}
      {sla.data ? (
        <p>
          {sla.data.queue_depth} pending
          {sla.data.queue_depth_ema !== null ? ` (average ${sla.data.queue_depth_ema.toFixed(1)})` : ''},{' '}
          {sla.data.open_alerts.length} open alert{sla.data.open_alerts.length === 1 ? '' : 's'}
        </p>
      ) : null}
      {table.enable_search ? (
        <label className="search">
          search
          <input
            type="search"
            value={search}
            placeholder="text in any column"
            onChange={(e) => {
              setSearch(e.target.value);
              setPage(0);
            }}
          />
        </label>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              {table.columns.map((c) => (
                <th
                  key={c.field}
                  scope="col"
                  style={c.width ? { width: c.width } : undefined}
                  aria-sort={
                    sort?.field === c.field ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined
                  }
                >
                  {c.sortable ? (
                    <button type="button" className="link sort" onClick={() => toggleSort(c.field)}>
                      {c.header ?? c.field}
                      {sort?.field === c.field ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : (
                    (c.header ?? c.field)
                  )}
                </th>
              ))}
              <th scope="col">session</th>
              <th scope="col">SLA</th>
            </tr>
            {choices.size ? (
              <tr className="column-filters">
                {table.columns.map((c) => (
                  <td key={c.field}>
                    {choices.has(c.field) ? (
                      <select
                        aria-label={`filter ${c.header ?? c.field}`}
                        value={choices.get(c.field)!.includes(chosen[c.field] ?? '') ? chosen[c.field] : ''}
                        onChange={(e) => {
                          setChosen({ ...chosen, [c.field]: e.target.value });
                          setPage(0);
                        }}
                      >
                        <option value="">any</option>
                        {choices.get(c.field)!.map((v) => (
                          <option key={v}>{v}</option>
                        ))}
                      </select>
                    ) : null}
                  </td>
                ))}
                <td />
                <td />
              </tr>
            ) : null}
          </thead>
          <tbody>
            {shown.map((t) => {
              const s = byId.get(t.id);
              return (
                <tr key={t.id} data-testid="task-row">
                  {table.columns.map((c) => (
                    <td
                      key={c.field}
                      className={c.field === 'id' ? 'mono' : undefined}
                      title={c.field === 'id' ? t.prompt : undefined}
                    >
                      <Cell task={t} column={c} ui={ui} />
                    </td>
                  ))}
                  <td>{t.assigned_session ?? '—'}</td>
                  <td>
                    {s ? (
                      <span
                        className="sla"
                        data-testid={`sla-${t.id}`}
                        data-severity={s.severity}
                        style={{ borderColor: colorOf(s) }}
                        title={`${duration(s.elapsed_minutes * 60_000)} of ${s.target_minutes} min${s.paused ? ' (paused)' : ''}`}
                      >
                        <span
                          className="sla-fill"
                          style={{ width: `${Math.min(100, s.percent_used)}%`, background: colorOf(s) }}
                        />
                        <span className="sla-text">
                          {Math.floor(s.percent_used)}% {s.severity}
                        </span>
                      </span>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {pages > 1 ? (
        <nav className="pager" aria-label="task pages">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            Previous
          </button>
          <span>
            page {current + 1} of {pages}
          </span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            Next
          </button>
        </nav>
      ) : null}
      {tasks.data && !tasks.data.items.length ? <p>No open task.</p> : null}
      <h2>Open alerts</h2>
      {ack.error ? <Problem error={ack.error} /> : null}
      <ul className="alerts">
        {(sla.data?.open_alerts ?? []).map((a) => (
          <li key={a.id} className={`alert alert-${a.severity}`} data-testid="alert">
            <strong>{a.severity}</strong> {a.message}{' '}
            <span className="hint">{relativeTime(a.created_at)}</span>{' '}
            {a.acknowledged_at ? (
              <span className="hint">
                acknowledged by {a.acknowledged_by} {relativeTime(a.acknowledged_at)}
              </span>
            ) : (
              <IfRole role="operator">
                <button type="button" onClick={() => ack.mutate(a.id)} disabled={ack.isPending}>
                  Acknowledge
                </button>
              </IfRole>
            )}
          </li>
        ))}
      </ul>
      {sla.data && !sla.data.open_alerts.length ? <p>No open alert.</p> : null}
    </section>
  );
}
