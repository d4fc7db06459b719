import { useQuery } from '@tanstack/react-query';
import { api, type Schedule, type WorkerInfo } from '../api';
import { Problem } from '../components';
import { duration, relativeTime } from '../format';

export function Workers() {
  const workers = useQuery({
    queryKey: ['workers'],
    queryFn: () => api<{ items: WorkerInfo[] }>('/api/workers'),
    refetchInterval: 5000,
  });
  const schedules = useQuery({
    queryKey: ['schedules'],
    queryFn: () => api<{ items: Schedule[] }>('/api/schedules'),
  });
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">Workers</h1>
      {workers.error ? <Problem error={workers.error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">worker</th>
              <th scope="col">host</th>
              <th scope="col">queues</th>
              <th scope="col" className="num">
                running
              </th>
              <th scope="col">heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {(workers.data?.items ?? []).map((w) => (
              <tr key={w.id} data-testid="worker-row">
                <td className="mono">{w.id}</td>
                <td>
                  {w.hostname} (pid {w.pid})
                </td>
                <td>{w.queues.join(', ')}</td>
                <td className="num">{w.running}</td>
                <td>
                  <span className={`badge ${w.live ? 'status-completed' : 'status-failed'}`}>
                    {w.live ? 'live' : 'lost'}
                  </span>{' '}
                  {duration(w.heartbeatAgeMs)} ago
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Schedules</h2>
      {schedules.error ? <Problem error={schedules.error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">schedule</th>
              <th scope="col">cron</th>
              <th scope="col">job</th>
              <th scope="col">next</th>
              <th scope="col">last</th>
            </tr>
          </thead>
          <tbody>
            {(schedules.data?.items ?? []).map((s) => (
              <tr key={s.name}>
                <td>{s.name}</td>
                <td className="mono">
                  {s.cron}
                  {s.timezone ? ` (${s.timezone})` : ''}
                </td>
                <td>{s.job}</td>
                <td title={s.nextFireAt}>{relativeTime(s.nextFireAt)}</td>
                <td title={s.lastFireAt ?? ''}>{relativeTime(s.lastFireAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
