import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api';
import { IfRole, Problem } from '../components';
import { duration, relativeTime } from '../format';

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
export function Tasks() {
  const client = useQueryClient();
  const sla = useQuery({
    queryKey: ['sla'],
    queryFn: () => api<SlaReport>('/api/sla'),
    refetchInterval: 5000,
  });
  const tasks = useQuery({
    queryKey: ['tasks'],
    queryFn: () => api<{ items: Task[] }>('/api/tasks?status=pending,assigned,running&limit=500'),
    refetchInterval: 5000,
  });
  const ack = useMutation({
    mutationFn: (id: number) => api(`/api/alerts/${id}/acknowledge`, { method: 'POST' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['sla'] }),
  });
  const byId = new Map((sla.data?.tasks ?? []).map((t) => [t.task_id, t]));

  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Task queue</h1>
      {sla.error ? <Problem error={sla.error} /> : null}
      {sla.data ? (
        <p>
          {sla.data.queue_depth} pending
          {sla.data.queue_depth_ema !== null ? ` (average ${sla.data.queue_depth_ema.toFixed(1)})` : ''},{' '}
          {sla.data.open_alerts.length} open alert{sla.data.open_alerts.length === 1 ? '' : 's'}
        </p>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">task</th>
              <th scope="col">type</th>
              <th scope="col">status</th>
              <th scope="col" className="num">
                priority
              </th>
              <th scope="col">session</th>
              <th scope="col">SLA</th>
              <th scope="col">sent</th>
            </tr>
          </thead>
          <tbody>
            {(tasks.data?.items ?? []).map((t) => {
              const s = byId.get(t.id);
              return (
                <tr key={t.id} data-testid="task-row">
                  <td className="mono" title={t.prompt}>
                    {t.id}
                  </td>
                  <td>{t.type}</td>
                  <td>
                    {t.status}
                    {t.waiting_because ? <div className="hint">{t.waiting_because}</div> : null}
                  </td>
                  <td className="num">{t.priority}</td>
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
                  <td title={t.created_at}>{relativeTime(t.created_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
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
