import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api';
import { IfRole, Problem } from '../components';
import { healthColor, refreshMs, useUiConfig } from '../ui-config';
import { relativeTime } from '../format';

interface Session {
  name: string;
  provider: string;
  status: string;
  capacity: number;
  current_tasks: string[];
  adapter: string;
  last_heartbeat: string;
  note: string | null;
}

export function Sessions() {
  const client = useQueryClient();
  const ui = useUiConfig();
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () => api<{ items: Session[] }>('/api/sessions'),
    refetchInterval: refreshMs(ui, 'sessions', 5000),
  });
  const drain = useMutation({
    mutationFn: (name: string) => api(`/api/sessions/${encodeURIComponent(name)}/drain`, { method: 'POST' }),
    onSettled: () => client.invalidateQueries({ queryKey: ['sessions'] }),
  });
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">
        {ui?.dashboard_panels.find((p) => p.id === 'sessions')?.title ?? 'Agent sessions'}
      </h1>
      {sessions.error ? <Problem error={sessions.error} /> : null}
      {drain.error ? <Problem error={drain.error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">session</th>
              <th scope="col">provider</th>
              <th scope="col">status</th>
              <th scope="col">tasks</th>
              <th scope="col">heartbeat</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {(sessions.data?.items ?? []).map((s) => (
              <tr key={s.name} data-testid="session-row">
                <td>{s.name}</td>
                <td>{s.provider}</td>
                <td>
                  <span className="badge" style={{ background: healthColor(ui, s.status) }}>
                    {s.status}
                  </span>
                  {s.note ? <div className="hint">{s.note}</div> : null}
                </td>
                <td className="mono">
                  {s.current_tasks.length}/{s.capacity} {s.current_tasks.join(', ')}
                </td>
                <td title={s.last_heartbeat}>{relativeTime(s.last_heartbeat)}</td>
                <td>
                  {s.status !== 'draining' && s.status !== 'offline' ? (
                    <IfRole role="operator">
                      <button type="button" onClick={() => drain.mutate(s.name)} disabled={drain.isPending}>
                        Drain
                      </button>
                    </IfRole>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sessions.data && !sessions.data.items.length ? <p>No session registered.</p> : null}
    </section>
  );
}
