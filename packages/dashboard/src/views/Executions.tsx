import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, queryString, type ExecutionSummary, type Page } from '../api';
import { IfRole, Problem, StatusBadge } from '../components';
import { between, relativeTime } from '../format';
import { href, navigate, type Location } from '../router';

const FILTERS = ['status', 'kind', 'name', 'queue', 'q', 'parent', 'since', 'until'] as const;
/** The time-range fields: the page shows local time, the URL and the API carry ISO 8601. */
const TIMES = new Set<string>(['since', 'until']);
const STATUSES = ['', 'queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'];

interface BulkResult {
  done: string[];
  failed: { id: string; code: string; message: string }[];
  /** More executions matched the filter than one call acts on. */
  more?: boolean;
}

/** What a bulk action covers: the ticked rows, or every execution the list's filters match. */
type BulkTarget = { action: 'cancel' | 'retry'; by: 'selection' | 'filter' };

const setFilters = (filters: Record<string, string | undefined>) =>
  Object.entries(filters).filter((e): e is [string, string] => !!e[1]);

/** The filters that are set, as the bulk routes take them (a list of statuses; no cursor). */
function bulkFilter(filters: Record<string, string | undefined>): Record<string, unknown> {
  return Object.fromEntries(setFilters(filters).map(([k, v]) => [k, k === 'status' ? [v] : v]));
}

function describeFilters(filters: Record<string, string | undefined>): string {
  const set = setFilters(filters);
  return set.length ? ` (${set.map(([k, v]) => `${k} ${v}`).join(', ')})` : ' (no filter: all of them)';
}

/** A datetime-local field's value for an ISO time, in the browser's zone. */
function localInput(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function Executions({ location }: { location: Location }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, location.params.get(f) ?? undefined]));
  const cursor = location.params.get('cursor') ?? undefined;
  const path = `/api/executions${queryString({ ...filters, cursor, limit: '50', view: 'summary' })}`;
  const page = useQuery({ queryKey: ['executions', path], queryFn: () => api<Page<ExecutionSummary>>(path) });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [outcome, setOutcome] = useState<string>();
  // An action on everything a filter matches is asked about once more before it is sent.
  const [confirming, setConfirming] = useState<BulkTarget['action']>();
  const client = useQueryClient();
  const bulk = useMutation({
    mutationFn: ({ action, by }: BulkTarget) =>
      api<BulkResult>(`/api/executions/bulk/${action}`, {
        method: 'POST',
        body: by === 'selection' ? { ids: [...selected] } : { filter: bulkFilter(filters) },
      }),
    onSuccess: (r, { action }) => {
      setOutcome(
        `${action}: ${r.done.length} done` +
          (r.failed.length
            ? `, ${r.failed.length} not (${r.failed.map((f) => `${f.id}: ${f.code}`).join('; ')})`
            : '') +
          (r.more ? '; more match: run it again for the next ones' : ''),
      );
      setSelected(new Set());
      setConfirming(undefined);
      void client.invalidateQueries({ queryKey: ['executions'] });
    },
  });

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    navigate(
      '/executions',
      Object.fromEntries(
        FILTERS.map((f) => {
          const v = String(data.get(f) ?? '');
          return [f, v ? (TIMES.has(f) ? new Date(v).toISOString() : v) : undefined];
        }),
      ),
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
        <label>
          created from
          <input name="since" type="datetime-local" defaultValue={localInput(filters.since)} />
        </label>
        <label>
          created before
          <input name="until" type="datetime-local" defaultValue={localInput(filters.until)} />
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
            onClick={() => bulk.mutate({ action: 'cancel', by: 'selection' })}
          >
            Cancel selected
          </button>
          <button
            type="button"
            disabled={!selected.size || bulk.isPending}
            onClick={() => bulk.mutate({ action: 'retry', by: 'selection' })}
          >
            Retry selected
          </button>
          {confirming ? (
            <span role="group" aria-label="confirm">
              {confirming === 'cancel' ? 'Cancel' : 'Retry'} every execution these filters match
              {describeFilters(filters)}?{' '}
              <button
                type="button"
                disabled={bulk.isPending}
                onClick={() => bulk.mutate({ action: confirming, by: 'filter' })}
              >
                Yes, {confirming} all
              </button>
              <button type="button" onClick={() => setConfirming(undefined)}>
                No
              </button>
            </span>
          ) : (
            <>
              <button type="button" disabled={bulk.isPending} onClick={() => setConfirming('cancel')}>
                Cancel all matching…
              </button>
              <button type="button" disabled={bulk.isPending} onClick={() => setConfirming('retry')}>
                Retry all matching…
              </button>
            </>
          )}
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
