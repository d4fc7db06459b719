import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, queryString, type ExecutionSummary, type Page } from '../api';
import { IfRole, Problem, StatusBadge } from '../components';
import { between, relativeTime } from '../format';
import { href, navigate, type Location } from '../router';

const FILTERS = ['status', 'kind', 'name', 'queue', 'q', 'parent'] as const;
const STATUSES = ['', 'queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'];

interface BulkResult {
  done: string[];
  failed: { id: string; code: string; message: string }[];
}

export function Executions({ location }: { location: Location }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, location.params.get(f) ?? undefined]));
  const cursor = location.params.get('cursor') ?? undefined;
  const path = `/api/executions${queryString({ ...filters, cursor, limit: '50', view: 'summary' })}`;
  const page = useQuery({ queryKey: ['executions', path], queryFn: () => api<Page<ExecutionSummary>>(path) });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [outcome, setOutcome] = useState<string>();
  const client = useQueryClient();
  const bulk = useMutation({
    mutationFn: (action: 'cancel' | 'retry') =>
      api<BulkResult>(`/api/executions/bulk/${action}`, { method: 'POST', body: { ids: [...selected] } }),
    onSuccess: (r, action) => {
      setOutcome(
        `${action}: ${r.done.length} done` +
          (r.failed.length
            ? `, ${r.failed.length} not (${r.failed.map((f) => `${f.id}: ${f.code}`).join('; ')})`
            : ''),
      );
      setSelected(new Set());
      void client.invalidateQueries({ queryKey: ['executions'] });
    },
  });

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    navigate(
      '/executions',
      Object.fromEntries(FILTERS.map((f) => [f, String(data.get(f) ?? '') || undefined])),
    );
  };
  const items = page.data?.items ?? [];
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section aria-labelledby="executions-title">
      <h1 id="executions-title">Executions</h1>
      <form className="filters" onSubmit={apply} role="search" key={location.params.toString()}>
        <label>
          status
          <select name="status" defaultValue={filters.status ?? ''}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          kind
          <select name="kind" defaultValue={filters.kind ?? ''}>
            {['', 'job', 'workflow', 'activity'].map((k) => (
              <option key={k} value={k}>
                {k || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          name
          <input name="name" defaultValue={filters.name} />
        </label>
        <label>
          queue
          <input name="queue" defaultValue={filters.queue} />
        </label>
        <label>
          search
          <input name="q" type="search" placeholder="id or name contains" defaultValue={filters.q} />
        </label>
        <input type="hidden" name="parent" value={filters.parent ?? ''} />
        <button type="submit">Apply</button>
      </form>
      <IfRole role="operator">
        <div className="toolbar" aria-label="bulk actions">
          <span>{selected.size} selected</span>
          <button
            type="button"
            disabled={!selected.size || bulk.isPending}
            onClick={() => bulk.mutate('cancel')}
          >
            Cancel selected
          </button>
          <button
            type="button"
            disabled={!selected.size || bulk.isPending}
            onClick={() => bulk.mutate('retry')}
          >
            Retry selected
          </button>
          {outcome ? <span role="status">{outcome}</span> : null}
          {bulk.error ? <Problem error={bulk.error} /> : null}
        </div>
      </IfRole>
      {page.error ? <Problem error={page.error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <IfRole role="operator">
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="select all on this page"
                    checked={items.length > 0 && items.every((e) => selected.has(e.id))}
                    onChange={(e) => setSelected(new Set(e.target.checked ? items.map((x) => x.id) : []))}
                  />
                </th>
              </IfRole>
              <th scope="col">id</th>
              <th scope="col">name</th>
              <th scope="col">kind</th>
              <th scope="col">queue</th>
              <th scope="col">status</th>
              <th scope="col">created</th>
              <th scope="col">took</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-testid="execution-row">
                <IfRole role="operator">
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`select ${e.id}`}
                      checked={selected.has(e.id)}
                      onChange={() => toggle(e.id)}
                    />
                  </td>
                </IfRole>
                <td className="mono">
                  <a href={href(`/runs/${encodeURIComponent(e.id)}`)}>{e.id}</a>
                </td>
                <td>{e.name}</td>
                <td>{e.kind}</td>
                <td>{e.queue}</td>
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td title={e.createdAt}>{relativeTime(e.createdAt)}</td>
                <td>{between(e.startedAt, e.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data && !items.length ? <p>No execution matches.</p> : null}
      <nav className="pager" aria-label="pages">
        {cursor ? <a href={href('/executions', filters)}>First page</a> : null}
        {page.data?.nextCursor ? (
          <a href={href('/executions', { ...filters, cursor: page.data.nextCursor })}>Next page</a>
        ) : null}
      </nav>
    </section>
  );
}
