import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, queryString } from '../api';
import { JsonView, Problem } from '../components';

interface Location {
  file: string;
  line: number;
  col: number;
}

interface Diagnostic extends Location {
  severity: 'error' | 'warning';
  path: string;
  message: string;
}

interface Shown {
  environment: string;
  hash: string;
  files: string[];
  warnings: Diagnostic[];
  value: unknown;
}

interface Explained {
  path: string;
  value: unknown;
  setBy: Location;
  overrode: { value: unknown; setBy: Location }[];
}

const at = (l: Location) => `${l.file}:${l.line}:${l.col}`;

function Diagnostics({ items }: { items: Diagnostic[] }) {
  return (
    <ul className="alerts">
      {items.map((d, i) => (
        <li key={i} className={`alert alert-${d.severity === 'error' ? 'critical' : 'warning'}`}>
          <span className="mono">{at(d)}</span> {d.path ? <strong>{d.path}</strong> : null} {d.message}
        </li>
      ))}
    </ul>
  );
}

/** The configuration in force (admins): its files and warnings, values with where each was set, check and reload. */
export function ConfigView() {
  const client = useQueryClient();
  const [path, setPath] = useState('');
  const shown = useQuery({ queryKey: ['config'], queryFn: () => api<Shown>('/api/config') });
  const explained = useQuery({
    queryKey: ['config-explain', path],
    queryFn: () => api<{ items: Explained[] }>(`/api/config/explain${queryString({ path })}`),
    enabled: path !== '',
  });
  const [outcome, setOutcome] = useState<{ text: string; diagnostics: Diagnostic[] }>();
  const act = useMutation({
    mutationFn: (action: 'validate' | 'reload') =>
      api<{ changed?: boolean; warnings: Diagnostic[] }>(`/api/config/${action}`, { method: 'POST' }),
    onSuccess: (r, action) => {
      setOutcome({
        text:
          action === 'validate'
            ? 'valid'
            : r.changed
              ? 'reloaded: the configuration changed'
              : 'reloaded: nothing changed',
        diagnostics: r.warnings,
      });
      // A reload may change anything the pages show: the queries, the layout, the rules.
      void client.invalidateQueries();
    },
    onError: (err) => {
      // An invalid directory: every problem, with its file:line:col.
      const diagnostics =
        err instanceof ApiError ? (err.details?.diagnostics as Diagnostic[] | undefined) : undefined;
      setOutcome({ text: err.message, diagnostics: diagnostics ?? [] });
    },
  });
  const explain = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setPath(String(new FormData(e.currentTarget).get('path') ?? '').trim());
  };

  return (
    <section aria-labelledby="config-title">
      <h1 id="config-title">Configuration</h1>
      {shown.error ? <Problem error={shown.error} /> : null}
      {shown.data ? (
        <dl className="facts">
          <dt>environment</dt>
          <dd>{shown.data.environment}</dd>
          <dt>hash</dt>
          <dd className="mono">{shown.data.hash}</dd>
          <dt>files</dt>
          <dd className="mono">{shown.data.files.join(', ')}</dd>
        </dl>
      ) : null}
      <div className="toolbar">
        <button type="button" onClick={() => act.mutate('validate')} disabled={act.isPending}>
          Validate the directory
        </button>
        <button type="button" onClick={() => act.mutate('reload')} disabled={act.isPending}>
          Reload
        </button>
      </div>
      {outcome ? (
        <div role="status">
          <p>{outcome.text}</p>
          <Diagnostics items={outcome.diagnostics} />
        </div>
      ) : null}
      {shown.data?.warnings.length ? (
        <>
          <h2>Warnings</h2>
          <Diagnostics items={shown.data.warnings} />
        </>
      ) : null}
      <h2>Where a value comes from</h2>
      <form className="filters" onSubmit={explain} aria-label="explain a value">
        <label>
          key path
          <input name="path" placeholder="sla_rules.sla_targets.deploy" defaultValue={path} />
        </label>
        <button type="submit">Explain</button>
      </form>
      {explained.error ? <Problem error={explained.error} /> : null}
      {explained.data ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">path</th>
                <th scope="col">value</th>
                <th scope="col">set by</th>
                <th scope="col">overrode</th>
              </tr>
            </thead>
            <tbody>
              {explained.data.items.map((e) => (
                <tr key={e.path} data-testid="explain-row">
                  <td className="mono">{e.path}</td>
                  <td className="mono">{JSON.stringify(e.value)}</td>
                  <td className="mono">{at(e.setBy)}</td>
                  <td className="mono">
                    {e.overrode.map((o) => `${JSON.stringify(o.value)} (${at(o.setBy)})`).join('; ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {shown.data ? (
        <JsonView label="the whole configuration (secrets masked)" value={shown.data.value} open={false} />
      ) : null}
    </section>
  );
}
