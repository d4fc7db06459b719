import { useQuery } from '@tanstack/react-query';
import { api } from '../api';
import { Problem } from '../components';
import { relativeTime } from '../format';
import { refreshMs, useUiConfig } from '../ui-config';
import { href } from '../router';

interface ErrorGroup {
  code: string | null;
  message: string | null;
  count: number;
  lastSeenAt: string;
  names: string[];
  exampleId: string;
}

/** Every failure in the store, grouped by error code and message by the server, the largest group first. */
export function Errors() {
  const ui = useUiConfig();
  const groups = useQuery({
    // Under 'executions': an execution's event refreshes it, as it does the lists.
    queryKey: ['executions', 'errors'],
    queryFn: () => api<{ items: ErrorGroup[] }>('/api/errors?limit=200'),
    refetchInterval: refreshMs(ui, 'errors', 30_000),
  });
  const items = groups.data?.items ?? [];
  return (
    <section aria-labelledby="errors-title">
      <h1 id="errors-title">{ui?.dashboard_panels.find((p) => p.id === 'errors')?.title ?? 'Errors'}</h1>
      <p>
        Failed executions grouped by error
        {groups.data
          ? `: ${items.reduce((n, g) => n + g.count, 0).toLocaleString()} in ${items.length} groups`
          : ''}
        .
      </p>
      {groups.error ? <Problem error={groups.error} /> : null}
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
            {items.map((g) => (
              <tr key={`${g.code}:${g.message}`} data-testid="error-group">
                <td className="num">{g.count.toLocaleString()}</td>
                <td className="mono">{g.code ?? '—'}</td>
                <td>{g.message ?? '(no message)'}</td>
                <td>
                  {g.names.map((n) => (
                    <a key={n} href={href('/executions', { status: 'failed', name: n })}>
                      {n}{' '}
                    </a>
                  ))}
                </td>
                <td title={g.lastSeenAt}>{relativeTime(g.lastSeenAt)}</td>
                <td className="mono">
                  <a href={href(`/runs/${encodeURIComponent(g.exampleId)}`)}>{g.exampleId}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {groups.data && !items.length ? <p>No failure.</p> : null}
    </section>
  );
}
