import { useQuery } from '@tanstack/react-query';
import { api, type ExecutionSummary, type Page } from '../api';
import { Problem } from '../components';
import { relativeTime } from '../format';
import { refreshMs, useUiConfig } from '../ui-config';
import { href } from '../router';

interface Group {
  code: string;
  message: string;
  count: number;
  lastSeen: string;
  names: Set<string>;
  example: string;
}

/** The newest 1,000 failures, grouped by error code and message. */
export function Errors() {
  const ui = useUiConfig();
  const page = useQuery({
    queryKey: ['executions', 'failed-1000'],
    queryFn: () => api<Page<ExecutionSummary>>('/api/executions?status=failed&limit=1000&view=summary'),
    refetchInterval: refreshMs(ui, 'errors', 30_000),
  });
  const groups = new Map<string, Group>();
  for (const e of page.data?.items ?? []) {
    const code = e.error?.code ?? e.error?.name ?? '—';
    const message = e.error?.message ?? '(no message)';
    const key = `${code}\u0000${message}`;
    const at = e.finishedAt ?? e.createdAt;
    const g = groups.get(key);
    if (!g)
      groups.set(key, { code, message, count: 1, lastSeen: at, names: new Set([e.name]), example: e.id });
    else {
      g.count++;
      g.names.add(e.name);
      if (at > g.lastSeen) g.lastSeen = at;
    }
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count);
  return (
    <section aria-labelledby="errors-title">
      <h1 id="errors-title">{ui?.dashboard_panels.find((p) => p.id === 'errors')?.title ?? 'Errors'}</h1>
      <p>The newest {page.data?.items.length ?? '…'} failed executions, grouped by error.</p>
      {page.error ? <Problem error={page.error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col" className="num">
                count
              </th>
              <th scope="col">code</th>
              <th scope="col">message</th>
              <th scope="col">in</th>
              <th scope="col">last seen</th>
              <th scope="col">example</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((g) => (
              <tr key={`${g.code}:${g.message}`} data-testid="error-group">
                <td className="num">{g.count}</td>
                <td className="mono">{g.code}</td>
                <td>{g.message}</td>
                <td>
                  {[...g.names].map((n) => (
                    <a key={n} href={href('/executions', { status: 'failed', name: n })}>
                      {n}{' '}
                    </a>
                  ))}
                </td>
                <td title={g.lastSeen}>{relativeTime(g.lastSeen)}</td>
                <td className="mono">
                  <a href={href(`/runs/${encodeURIComponent(g.example)}`)}>{g.example}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
