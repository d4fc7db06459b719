// Small pieces every view uses: the status badge, the JSON viewer, errors and the role check.
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, ApiError, type Role, type StoredError } from './api';

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** JSON, collapsible; long values start closed. */
export function JsonView({ label, value, open }: { label: string; value: unknown; open?: boolean }) {
  const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
  return (
    <details className="json" open={open ?? text.length < 2000}>
      <summary>{label}</summary>
      <pre>{text}</pre>
    </details>
  );
}

export function ErrorBox({ error }: { error: StoredError }) {
  return (
    <div className="error-box" role="alert">
      <strong>{error.code ? `${error.code}: ` : ''}</strong>
      {error.message}
      {error.stack ? (
        <details>
          <summary>stack</summary>
          <pre>{error.stack}</pre>
        </details>
      ) : null}
    </div>
  );
}

export function Problem({ error }: { error: unknown }) {
  const text =
    error instanceof ApiError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <p className="problem" role="alert">
      {text}
    </p>
  );
}

const ORDER: Role[] = ['viewer', 'operator', 'admin'];

export function useRole(): Role | undefined {
  return useQuery({ queryKey: ['me'], queryFn: () => api<{ role: Role }>('/api/me'), staleTime: 60_000 }).data
    ?.role;
}

/** Shows `children` only to callers whose role is at least `role`. */
export function IfRole({ role, children }: { role: Role; children: ReactNode }) {
  const mine = useRole();
  return mine && ORDER.indexOf(mine) >= ORDER.indexOf(role) ? <>{children}</> : null;
}
