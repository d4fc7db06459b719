import { useQuery } from '@tanstack/react-query';
import { api, type Queue, type WorkerInfo } from '../api';
import { TimeChart } from '../chart';
import { Problem } from '../components';
import { duration } from '../format';
import { useLiveStats } from '../live-stats';
import { href } from '../router';

const STATES = ['ready', 'scheduled', 'running', 'waiting'] as const;

/** The server's window for the queues' recent figures, in minutes. */
const windowMinutes = (items: Queue[] | undefined) => (items?.[0]?.recent.windowMs ?? 300_000) / 60_000;

export function Overview() {
  const queues = useQuery({ queryKey: ['queues'], queryFn: () => api<{ items: Queue[] }>('/api/queues') });
  // Heartbeats age without any event: workers are read every 5 s.
  const workers = useQuery({
    queryKey: ['workers'],
    queryFn: () => api<{ items: WorkerInfo[] }>('/api/workers'),
    refetchInterval: 5000,
  });
  const live = useLiveStats();
  const totals = Object.fromEntries(
    STATES.map((s) => [s, (queues.data?.items ?? []).reduce((n, q) => n + q[s], 0)]),
  ) as Record<(typeof STATES)[number], number>;
  const liveWorkers = workers.data?.items.filter((w) => w.live).length ?? 0;

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {queues.error ? <Problem error={queues.error} /> : null}
      <div className="cards">
        {STATES.map((s) => (
          <a
            key={s}
            className="card"
            href={href('/executions', { status: s === 'ready' || s === 'scheduled' ? 'queued' : s })}
          >
            <span className="card-value" data-testid={`count-${s}`}>
              {queues.data ? totals[s] : '…'}
            </span>
            <span className="card-label">{s}</span>
          </a>
        ))}
        <div className="card">
          <span className="card-value" data-testid="count-completed">
            {live.completed}
          </span>
          <span className="card-label">completed while open</span>
        </div>
        <div className="card">
          <span className="card-value" data-testid="count-failed">
            {live.failed}
          </span>
          <span className="card-label">failed while open</span>
        </div>
        <a className="card" href={href('/workers')}>
          <span className="card-value">{workers.data ? liveWorkers : '…'}</span>
          <span className="card-label">live workers</span>
        </a>
      </div>
      <div className="charts">
        <TimeChart
          title="Finished per second"
          unit="per s"
          series={[
            { label: 'completed', color: '#2e7d32' },
            { label: 'failed', color: '#c62828' },
          ]}
          data={live.series.slice(0, 3)}
        />
        <TimeChart
          title="Queued to finished, p50"
          unit="ms"
          series={[{ label: 'p50', color: '#1565c0' }]}
          data={[live.series[0]!, live.series[3]!]}
        />
      </div>
      <h2>Queues</h2>
      <p className="hint">
        Finished per second and latency over the last {windowMinutes(queues.data?.items)} minutes.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">queue</th>
              {STATES.map((s) => (
                <th key={s} scope="col" className="num">
                  {s}
                </th>
              ))}
              <th scope="col" className="num">
                finished / s
              </th>
              <th scope="col">queued to finished (p50, p95, p99)</th>
              <th scope="col">limits</th>
            </tr>
          </thead>
          <tbody>
            {(queues.data?.items ?? []).map((q) => (
              <tr key={q.name}>
                <td>
                  <a href={href('/executions', { queue: q.name })}>{q.name}</a>
                </td>
                {STATES.map((s) => (
                  <td key={s} className="num">
                    {q[s]}
                  </td>
                ))}
                <td className="num" title={`${q.recent.completed} completed, ${q.recent.failed} failed`}>
                  {q.recent.throughputPerSecond.toFixed(2)}
                </td>
                <td data-testid={`latency-${q.name}`}>
                  {q.recent.latencyMs
                    ? [q.recent.latencyMs.p50, q.recent.latencyMs.p95, q.recent.latencyMs.p99]
                        .map(duration)
                        .join(', ')
                    : '—'}
                </td>
                <td>
                  {[
                    q.concurrencyLimit ? `concurrency ${q.concurrencyLimit}` : '',
                    q.rateLimit ? `${q.rateLimit.limit} per ${q.rateLimit.intervalMs} ms` : '',
                  ]
                    .filter(Boolean)
                    .join(', ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
