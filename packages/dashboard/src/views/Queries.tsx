import { useQuery } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { api, queryString } from '../api';
import { Problem } from '../components';
import { navigate, type Location } from '../router';

interface Param {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

interface NamedQuery {
  name: string;
  description: string;
  datasource: string;
  params: Param[];
  cacheTtl: number;
}

interface Result {
  query: string;
  results: Record<string, unknown>[];
  count: number;
  truncated?: boolean;
  cached?: boolean;
}

/** An input for a param's type: numbers as numbers, booleans as a choice, lists as comma-separated text. */
function ParamInput({ param, value }: { param: Param; value: string | undefined }) {
  const hint = param.default !== undefined ? `default ${JSON.stringify(param.default)}` : undefined;
  const label = `${param.name}${param.required ? ' (required)' : ''}`;
  if (param.type === 'boolean')
    return (
      <label>
        {label}
        <select name={param.name} defaultValue={value ?? ''}>
          <option value="">{hint ?? '—'}</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      </label>
    );
  const numeric = param.type === 'integer' || param.type === 'number';
  return (
    <label title={param.description}>
      {label}
      <input
        name={param.name}
        type={numeric ? 'number' : 'text'}
        step={param.type === 'integer' ? 1 : 'any'}
        required={param.required}
        defaultValue={value}
        placeholder={param.type.endsWith('[]') ? 'comma-separated' : (hint ?? param.type)}
      />
    </label>
  );
}

/** Pick a named query, fill its typed params, see its rows. The URL holds the query and its params. */
export function Queries({ location }: { location: Location }) {
  const list = useQuery({
    queryKey: ['queries'],
    queryFn: () => api<{ items: NamedQuery[] }>('/api/queries'),
  });
  const name = location.params.get('name') ?? undefined;
  const chosen = list.data?.items.find((q) => q.name === name);
  // In the URL a param is `p.<name>`, so that none can clash with the page's own `name` and `run`.
  const values = Object.fromEntries(
    (chosen?.params ?? []).map((p) => [p.name, location.params.get(`p.${p.name}`) ?? undefined]),
  );
  const ran = location.params.get('run') === '1';
  const path = chosen ? `/api/query/${encodeURIComponent(chosen.name)}${queryString(values)}` : '';
  const result = useQuery({
    queryKey: ['query-run', path],
    queryFn: () => api<Result>(path),
    enabled: ran && Boolean(chosen),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const given = Object.fromEntries(
      chosen!.params.map((p) => [`p.${p.name}`, String(data.get(p.name) ?? '') || undefined]),
    );
    navigate('/queries', { name: chosen!.name, ...given, run: '1' });
  };
  const columns = [...new Set((result.data?.results ?? []).flatMap((r) => Object.keys(r)))];

  return (
    <section aria-labelledby="queries-title">
      <h1 id="queries-title">Named queries</h1>
      {list.error ? <Problem error={list.error} /> : null}
      <label>
        query
        <select
          value={name ?? ''}
          onChange={(e) => navigate('/queries', { name: e.target.value || undefined })}
        >
          <option value="">choose one</option>
          {(list.data?.items ?? []).map((q) => (
            <option key={q.name} value={q.name}>
              {q.name}
            </option>
          ))}
        </select>
      </label>
      {chosen ? (
        <>
          <p>
            {chosen.description} <span className="hint">({chosen.datasource})</span>
          </p>
          <form className="filters" onSubmit={submit} key={path} aria-label="parameters">
            {chosen.params.map((p) => (
              <ParamInput key={p.name} param={p} value={values[p.name]} />
            ))}
            <button type="submit">Run</button>
          </form>
        </>
      ) : null}
      {result.error ? <Problem error={result.error} /> : null}
      {result.data ? (
        <>
          <p role="status">
            {result.data.count} row{result.data.count === 1 ? '' : 's'}
            {result.data.truncated ? ' (truncated: the query has no LIMIT)' : ''}
            {result.data.cached ? ' (cached)' : ''}
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.data.results.map((r, i) => (
                  <tr key={i} data-testid="query-row">
                    {columns.map((c) => (
                      <td key={c}>{r[c] === null || r[c] === undefined ? '—' : String(r[c])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
