import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  api,
  queryString,
  type Execution,
  type ExecutionSummary,
  type HistoryEntry,
  type Page,
  type StoredError,
} from '../api';
import { ErrorBox, IfRole, JsonView, Problem, StatusBadge } from '../components';
import { between, duration, relativeTime } from '../format';
import { href } from '../router';

interface Described {
  execution: Execution;
  history: HistoryEntry[];
}

const FINISHED = ['completed', 'failed', 'cancelled'];

/** History entries as bars on one time axis, from the execution's start to its end (or now). */
function Timeline({ execution, history }: Described) {
  if (!history.length) return <p>No history entries (a job, or a workflow that has not run a step yet).</p>;
  // A resumed workflow's startedAt is its latest run's: entries may start before it.
  const t0 = Math.min(
    Date.parse(execution.startedAt ?? execution.createdAt),
    ...history.map((h) => Date.parse(h.startedAt)),
  );
  const now = Date.now();
  const end = Math.max(
    execution.finishedAt ? Date.parse(execution.finishedAt) : now,
    ...history.map((h) => (h.finishedAt ? Date.parse(h.finishedAt) : now)),
  );
  const span = Math.max(1, end - t0);
  return (
    <ol className="timeline" aria-label="history timeline">
      {history.map((h) => {
        const s = Date.parse(h.startedAt);
        const e = h.finishedAt ? Date.parse(h.finishedAt) : now;
        const left = Math.min(99.5, ((s - t0) / span) * 100);
        const width = Math.max(0.5, ((e - s) / span) * 100);
        return (
          <li key={h.seq} className="timeline-row">
            <span className="timeline-label">
              #{h.seq} {h.kind} <strong>{h.name}</strong> <StatusBadge status={h.status} /> {duration(e - s)}
              {h.attempts > 1 ? `, ${h.attempts} attempts` : ''}
            </span>
            <span className="timeline-track">
              <span
                className={`timeline-bar status-${h.status}`}
                style={{ marginLeft: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
              />
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function SignalForm({ id }: { id: string }) {
  const [problem, setProblem] = useState<string>();
  const [sent, setSent] = useState<string>();
  const client = useQueryClient();
  const send = useMutation({
    mutationFn: ({ name, payload }: { name: string; payload: unknown }) =>
      api(`/api/executions/${encodeURIComponent(id)}/signals/${encodeURIComponent(name)}`, {
        method: 'POST',
        body: { payload },
      }),
    onSuccess: (_r, v) => {
      setSent(`signal '${v.name}' sent`);
      void client.invalidateQueries({ queryKey: ['run', id] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const name = String(data.get('name') ?? '').trim();
    const text = String(data.get('payload') ?? '').trim();
    setSent(undefined);
    if (!name) return setProblem('give the signal a name');
    let payload: unknown = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch (err) {
      return setProblem(`the payload is not JSON: ${(err as Error).message}`);
    }
    setProblem(undefined);
    send.mutate({ name, payload });
  };
  return (
    <form className="signal" onSubmit={submit} aria-label="send a signal">
      <label>
        signal name
        <input name="name" required />
      </label>
      <label>
        payload (JSON)
        <textarea name="payload" rows={3} spellCheck={false} placeholder='{"ok": true}' />
      </label>
      <button type="submit" disabled={send.isPending}>
        Send signal
      </button>
      {problem ? <Problem error={problem} /> : null}
      {send.error ? <Problem error={send.error} /> : null}
      {sent ? <p role="status">{sent}</p> : null}
    </form>
  );
}

/** The approval a YAML workflow's run waits for: its step, and the prompt it published. */
function pendingApproval(history: HistoryEntry[]): { step: string; prompt: string | null } | undefined {
  const wait = history.find(
    (h) => h.kind === 'signal' && h.status === 'waiting' && h.name.startsWith('approve:'),
  );
  if (!wait) return undefined;
  const step = wait.name.slice('approve:'.length);
  const event = history.find((h) => h.kind === 'event' && h.name === `approval:${step}`);
  const published = (event?.output ?? event?.input) as { prompt?: unknown } | null | undefined;
  return { step, prompt: typeof published?.prompt === 'string' ? published.prompt : null };
}

function ApprovalForm({ id, step, prompt }: { id: string; step: string; prompt: string | null }) {
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const answer = useMutation({
    mutationFn: (approved: boolean) =>
      api(`/api/flows/runs/${encodeURIComponent(id)}/approvals/${encodeURIComponent(step)}`, {
        method: 'POST',
        body: { approved, ...(reason.trim() ? { reason: reason.trim() } : {}) },
      }),
    onSettled: () => client.invalidateQueries({ queryKey: ['run', id] }),
  });
  return (
    <form className="signal" aria-label="approval" onSubmit={(e) => e.preventDefault()}>
      <p>
        Step <span className="mono">{step}</span> waits for an approval{prompt ? `: ${prompt}` : '.'}
      </p>
      <label>
        reason (optional)
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} />
      </label>
      <div className="toolbar">
        <button type="button" disabled={answer.isPending} onClick={() => answer.mutate(true)}>
          Approve
        </button>
        <button type="button" disabled={answer.isPending} onClick={() => answer.mutate(false)}>
          Deny
        </button>
      </div>
      {answer.error ? <Problem error={answer.error} /> : null}
      {answer.isSuccess ? <p role="status">answer sent as you</p> : null}
    </form>
  );
}

export function Run({ id }: { id: string }) {
  const client = useQueryClient();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => api<Described>(`/api/executions/${encodeURIComponent(id)}/history`),
  });
  const childrenPath = `/api/executions${queryString({ parent: id, limit: '100', view: 'summary' })}`;
  const children = useQuery({
    queryKey: ['executions', childrenPath],
    queryFn: () => api<Page<ExecutionSummary>>(childrenPath),
  });
  const act = useMutation({
    mutationFn: (action: 'cancel' | 'retry') =>
      api(`/api/executions/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: {} }),
    onSettled: () => client.invalidateQueries({ queryKey: ['run', id] }),
  });
  if (run.error) return <Problem error={run.error} />;
  if (!run.data) return <p>Loading…</p>;
  const e = run.data.execution;
  const finished = FINISHED.includes(e.status);
  const approval = pendingApproval(run.data.history);
  const earlier = e.errors.filter((x) => x.message !== e.error?.message || x.at !== e.error?.at);

  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">
        {e.kind} <span className="mono">{e.id}</span> <StatusBadge status={e.status} />
      </h1>
      <IfRole role="operator">
        <div className="toolbar">
          <button type="button" disabled={finished || act.isPending} onClick={() => act.mutate('cancel')}>
            Cancel
          </button>
          <button
            type="button"
            disabled={!['failed', 'cancelled'].includes(e.status) || act.isPending}
            onClick={() => act.mutate('retry')}
          >
            Retry
          </button>
          {act.error ? <Problem error={act.error} /> : null}
        </div>
      </IfRole>
      <dl className="facts">
        <dt>name</dt>
        <dd>{e.name}</dd>
        <dt>queue</dt>
        <dd>{e.queue}</dd>
        <dt>attempts</dt>
        <dd>
          {e.attempts} of {e.maxAttempts}
        </dd>
        <dt>created</dt>
        <dd title={e.createdAt}>{relativeTime(e.createdAt)}</dd>
        <dt>ran for</dt>
        <dd>{between(e.startedAt, e.finishedAt)}</dd>
        {e.parentId ? (
          <>
            <dt>parent</dt>
            <dd className="mono">
              <a href={href(`/runs/${encodeURIComponent(e.parentId)}`)}>{e.parentId}</a>
            </dd>
          </>
        ) : null}
        {e.workerId ? (
          <>
            <dt>worker</dt>
            <dd className="mono">{e.workerId}</dd>
          </>
        ) : null}
      </dl>
      {e.error ? <ErrorBox error={e.error} /> : null}
      {earlier.length ? (
        <details>
          <summary>earlier attempts' errors ({earlier.length})</summary>
          {earlier.map((x: StoredError, i) => (
            <ErrorBox key={i} error={x} />
          ))}
        </details>
      ) : null}
      <JsonView label="input" value={e.input} />
      <JsonView label="output" value={e.output} />
      {e.progress !== null && e.progress !== undefined ? (
        <JsonView label="progress" value={e.progress} />
      ) : null}
      {e.kind === 'workflow' ? (
        <>
          <h2>Timeline</h2>
          <Timeline {...run.data} />
          {!finished && approval ? (
            <IfRole role="operator">
              <h2>Approval</h2>
              <ApprovalForm id={e.id} {...approval} />
            </IfRole>
          ) : null}
          {!finished ? (
            <IfRole role="operator">
              <h2>Signal</h2>
              <SignalForm id={e.id} />
            </IfRole>
          ) : null}
        </>
      ) : null}
      {children.data?.items.length ? (
        <>
          <h2>Children and activities</h2>
          <ul>
            {children.data.items.map((c) => (
              <li key={c.id}>
                <a className="mono" href={href(`/runs/${encodeURIComponent(c.id)}`)}>
                  {c.id}
                </a>{' '}
                {c.kind} {c.name} <StatusBadge status={c.status} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
