import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, queryString, type ExecutionSummary, type Page } from '../api';
import { IfRole, Problem, StatusBadge } from '../components';
import { relativeTime } from '../format';
import { href, navigate, type Location } from '../router';

interface FlowInfo {
  name: string;
  description: string | null;
  trigger: Record<string, unknown> | null;
  input: Record<string, unknown> | null;
  steps: { id: string; type: string }[];
}

interface PlannedStep {
  name: string;
  type: string;
  depth: number;
  runs: 'yes' | 'no' | 'maybe';
  because?: string;
  values: Record<string, unknown>;
}

interface Plan {
  version: string;
  steps: PlannedStep[];
}

/** What starts a workflow, in a few words. */
function triggerText(t: Record<string, unknown> | null): string {
  if (!t) return 'manual';
  switch (t.type) {
    case 'api':
      return `${String(t.method ?? 'POST')} ${String(t.endpoint)}`;
    case 'schedule':
      return `cron ${String(t.cron)}`;
    case 'event':
      return `event ${String(t.event)}${t.filter ? ` where ${String(t.filter)}` : ''}`;
    default:
      return String(t.type);
  }
}

/** The input as the form holds it: JSON, empty meaning `{}`. */
function parseInput(text: string): { input?: unknown; problem?: string } {
  if (!text.trim()) return { input: {} };
  try {
    return { input: JSON.parse(text) as unknown };
  } catch (err) {
    return { problem: `the input is not JSON: ${(err as Error).message}` };
  }
}

function PlanTable({ plan }: { plan: Plan }) {
  return (
    <>
      <p role="status">
        a run would take these steps (version <span className="mono">{plan.version.slice(0, 19)}</span>
        ); nothing ran
      </p>
      <div className="table-wrap">
        <table aria-label="plan">
          <thead>
            <tr>
              <th scope="col">step</th>
              <th scope="col">type</th>
              <th scope="col">runs</th>
              <th scope="col">values</th>
            </tr>
          </thead>
          <tbody>
            {plan.steps.map((s) => (
              <tr key={s.name} data-testid="plan-step">
                <td className="mono" style={{ paddingLeft: `${0.5 + s.depth * 1.2}em` }}>
                  {s.name}
                </td>
                <td>{s.type}</td>
                <td title={s.because}>
                  {s.runs}
                  {s.because ? <span className="hint"> ({s.because})</span> : null}
                </td>
                <td className="mono">{Object.keys(s.values).length ? JSON.stringify(s.values) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** One workflow: its steps, a dry run or a run with an input, and its latest runs. */
function FlowDetail({ flow }: { flow: FlowInfo }) {
  const [problem, setProblem] = useState<string>();
  const runsPath = `/api/executions${queryString({ kind: 'workflow', name: flow.name, limit: '20', view: 'summary' })}`;
  const runs = useQuery({
    queryKey: ['executions', runsPath],
    queryFn: () => api<Page<ExecutionSummary>>(runsPath),
  });
  const plan = useMutation({
    mutationFn: (input: unknown) =>
      api<Plan>(`/api/flows/${encodeURIComponent(flow.name)}/plan`, { method: 'POST', body: input }),
  });
  const start = useMutation({
    mutationFn: (input: unknown) =>
      api<{ id: string }>(`/api/flows/${encodeURIComponent(flow.name)}/runs`, {
        method: 'POST',
        body: input,
      }),
    onSuccess: (r) => navigate(`/runs/${encodeURIComponent(r.id)}`),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const { input, problem: bad } = parseInput(String(new FormData(form).get('input') ?? ''));
    setProblem(bad);
    if (bad) return;
    const action = (e.nativeEvent as SubmitEvent).submitter?.getAttribute('value');
    if (action === 'run') start.mutate(input);
    else plan.mutate(input);
  };
  return (
    <>
      <h2>{flow.name}</h2>
      {flow.description ? <p>{flow.description}</p> : null}
      <dl className="facts">
        <dt>trigger</dt>
        <dd className="mono">{triggerText(flow.trigger)}</dd>
        <dt>steps</dt>
        <dd>
          {flow.steps.map((s, i) => (
            <span key={s.id} className="mono">
              {i ? ' → ' : ''}
              {s.id} <span className="hint">({s.type})</span>
            </span>
          ))}
        </dd>
        {flow.input ? (
          <>
            <dt>input</dt>
            <dd className="mono">{JSON.stringify(flow.input)}</dd>
          </>
        ) : null}
      </dl>
      <form className="signal" onSubmit={submit} aria-label="plan or run">
        <label>
          input (JSON)
          <textarea name="input" rows={3} spellCheck={false} placeholder="{}" />
        </label>
        <div className="toolbar">
          <button type="submit" value="plan" disabled={plan.isPending}>
            Plan
          </button>
          <IfRole role="operator">
            <button type="submit" value="run" disabled={start.isPending}>
              Run
            </button>
          </IfRole>
        </div>
        {problem ? <Problem error={problem} /> : null}
        {plan.error ? <Problem error={plan.error} /> : null}
        {start.error ? <Problem error={start.error} /> : null}
      </form>
      {plan.data ? <PlanTable plan={plan.data} /> : null}
      <h3>Latest runs</h3>
      {runs.error ? <Problem error={runs.error} /> : null}
      {runs.data && runs.data.items.length === 0 ? <p>No runs yet.</p> : null}
      <ul className="plain">
        {(runs.data?.items ?? []).map((r) => (
          <li key={r.id}>
            <StatusBadge status={r.status} />{' '}
            <a className="mono" href={href(`/runs/${encodeURIComponent(r.id)}`)}>
              {r.id}
            </a>{' '}
            <span className="hint" title={r.createdAt}>
              {relativeTime(r.createdAt)}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** The YAML workflows of workflows.yaml; `#/flows?name=x` opens one. */
export function Flows({ location }: { location: Location }) {
  const list = useQuery({ queryKey: ['flows'], queryFn: () => api<{ items: FlowInfo[] }>('/api/flows') });
  const name = location.params.get('name') ?? undefined;
  const chosen = list.data?.items.find((f) => f.name === name);
  return (
    <section aria-labelledby="flows-title">
      <h1 id="flows-title">YAML workflows</h1>
      {list.error ? <Problem error={list.error} /> : null}
      <div className="table-wrap">
        <table aria-label="workflows">
          <thead>
            <tr>
              <th scope="col">workflow</th>
              <th scope="col">trigger</th>
              <th scope="col">steps</th>
              <th scope="col">description</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((f) => (
              <tr key={f.name} data-testid="flow-row" aria-current={f.name === name ? 'true' : undefined}>
                <td>
                  <a href={href('/flows', { name: f.name })}>{f.name}</a>
                </td>
                <td className="mono">{triggerText(f.trigger)}</td>
                <td>{f.steps.length}</td>
                <td>{f.description ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {name && list.data && !chosen ? <p className="problem">No workflow named {name}.</p> : null}
      {chosen ? <FlowDetail flow={chosen} key={chosen.name} /> : null}
    </section>
  );
}
