// The dashboard: one page, hash routes, data through TanStack Query, kept fresh by the server's
// event stream (a change invalidates what shows it) rather than by polling the database.
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { StrictMode, useEffect, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { api, apiKey, ApiError, type Role } from './api';
import { liveState, reconnectLive, subscribeLive } from './live';
import { href, useLocation } from './router';
import { Errors } from './views/Errors';
import { Executions } from './views/Executions';
import { Flows } from './views/Flows';
import { Overview } from './views/Overview';
import { Run } from './views/Run';
import { SignIn } from './views/SignIn';
import { Sessions } from './views/Sessions';
import { Queries } from './views/Queries';
import { ConfigView } from './views/ConfigView';
import { Tasks } from './views/Tasks';
import { Workers } from './views/Workers';
import { useUiConfig, type Panel, type UiConfig } from './ui-config';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2000,
      // A refused key or a missing execution will not change by asking again.
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
    },
  },
});

/** Turns the event stream into cache invalidations, at most a few per second. */
function LiveBridge() {
  const client = useQueryClient();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const runs = new Set<string>();
    let all = false;
    let architect = false;
    const flush = () => {
      timer = undefined;
      if (all) void client.invalidateQueries();
      else {
        void client.invalidateQueries({ queryKey: ['executions'] });
        void client.invalidateQueries({ queryKey: ['queues'] });
        for (const id of runs) void client.invalidateQueries({ queryKey: ['run', id] });
        if (architect)
          for (const key of ['tasks', 'sla', 'sessions']) void client.invalidateQueries({ queryKey: [key] });
      }
      runs.clear();
      all = false;
      architect = false;
    };
    return subscribeLive((m) => {
      if (m.type === 'reset') all = true;
      else
        for (const e of m.events) {
          if (e.type === 'execution') runs.add(e.id);
          // A task, session or alert changed (or a task's workflow moved).
          if (e.type !== 'execution' || e.queue === 'architect') architect = true;
        }
      timer ??= setTimeout(flush, 250);
    });
  }, [client]);
  return null;
}

/** The views ui_config.yaml's `dashboard_panels` order, title and switch off, by panel id. */
const PANEL_VIEWS: Record<string, { path: string; label: string; architect: boolean }> = {
  tasks: { path: '/tasks', label: 'Tasks', architect: true },
  sessions: { path: '/sessions', label: 'Sessions', architect: true },
  errors: { path: '/errors', label: 'Errors', architect: false },
};

/** Overview and Executions first, the configured panels in their order, Workers last. */
function navigation(
  ui: UiConfig | undefined,
  architect: boolean,
  more: [string, string][],
): [string, string][] {
  const panels = ui?.dashboard_panels ?? Object.keys(PANEL_VIEWS).map((id) => ({ id }) as Panel);
  const configured = [...panels]
    .filter((p) => p.enabled !== false && PANEL_VIEWS[p.id] && (architect || !PANEL_VIEWS[p.id]!.architect))
    .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
    .map((p): [string, string] => [PANEL_VIEWS[p.id]!.path, p.title ?? PANEL_VIEWS[p.id]!.label]);
  return [['/', 'Overview'], ['/executions', 'Executions'], ...configured, ['/workers', 'Workers'], ...more];
}

function App() {
  const location = useLocation();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<{ role: Role }>('/api/me'), staleTime: 60_000 });
  const live = useSyncExternalStore(liveState.subscribe, liveState.get);
  const architect = useQuery({
    queryKey: ['architect-available'],
    queryFn: () => api('/api/sessions').then(() => true),
    staleTime: 60_000,
    enabled: me.isSuccess,
  });
  const queries = useQuery({
    queryKey: ['queries-available'],
    queryFn: () => api('/api/queries').then(() => true),
    staleTime: 60_000,
    enabled: me.isSuccess,
  });
  const flows = useQuery({
    queryKey: ['flows-available'],
    queryFn: () => api('/api/flows').then(() => true),
    staleTime: 60_000,
    enabled: me.isSuccess,
  });
  const ui = useUiConfig();
  // With a configuration directory: its YAML workflows and queries for everyone, its settings for admins.
  const more: [string, string][] = [
    ...(flows.data ? [['/flows', 'Flows'] as [string, string]] : []),
    ...(queries.data
      ? [
          ['/queries', 'Queries'] as [string, string],
          ...(me.data?.role === 'admin' ? [['/config', 'Config'] as [string, string]] : []),
        ]
      : []),
  ];
  const nav = navigation(ui, architect.data === true, more);
  const needsKey = me.error instanceof ApiError && me.error.status === 401;

  let view;
  const run = /^\/runs\/(.+)$/.exec(location.path);
  if (needsKey) view = <SignIn refused={apiKey.get() !== null} />;
  else if (location.path === '/') view = <Overview />;
  else if (location.path === '/executions') view = <Executions location={location} />;
  else if (run) view = <Run id={decodeURIComponent(run[1]!)} key={run[1]} />;
  else if (location.path === '/errors') view = <Errors />;
  else if (location.path === '/workers') view = <Workers />;
  else if (location.path === '/tasks') view = <Tasks />;
  else if (location.path === '/sessions') view = <Sessions />;
  else if (location.path === '/queries') view = <Queries location={location} />;
  else if (location.path === '/flows') view = <Flows location={location} />;
  else if (location.path === '/config') view = <ConfigView />;
  else
    view = (
      <p>
        No such page. <a href={href('/')}>Overview</a>
      </p>
    );

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <a className="brand" href={href('/')}>
          Baton
        </a>
        <nav aria-label="views">
          {nav.map(([path, label]) => (
            <a key={path} href={href(path)} aria-current={location.path === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className={`live live-${live}`} role="status" data-testid="live-state">
          {live === 'live' ? '● live' : live === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
        {me.data ? <span className="role">{me.data.role}</span> : null}
        {apiKey.get() ? (
          <button
            type="button"
            className="link"
            onClick={() => {
              apiKey.clear();
              reconnectLive();
              void queryClient.resetQueries();
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {view}
      </main>
      {needsKey ? null : <LiveBridge />}
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
