// Calls to Baton's HTTP API from the page: the key (when the server wants one) comes from this
// tab's session storage, errors arrive as ApiError with the API's code and message.

export type Status = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';
export type Role = 'viewer' | 'operator' | 'admin';

export interface StoredError {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
  attempt?: number;
  at?: string;
}

export interface Execution {
  id: string;
  kind: 'job' | 'workflow' | 'activity';
  name: string;
  queue: string;
  status: Status;
  priority: number;
  attempts: number;
  maxAttempts: number;
  input: unknown;
  output: unknown;
  error: StoredError | null;
  errors: StoredError[];
  progress: unknown;
  parentId: string | null;
  workerId: string | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What a list sends with `view=summary`: no payloads, no earlier errors, no keys. */
export type ExecutionSummary = Omit<Execution, 'input' | 'output' | 'errors' | 'progress'>;

export interface HistoryEntry {
  seq: number;
  kind: string;
  name: string;
  status: string;
  attempts: number;
  input: unknown;
  output: unknown;
  error: unknown;
  startedAt: string;
  finishedAt: string | null;
}

export interface Queue {
  name: string;
  ready: number;
  scheduled: number;
  running: number;
  waiting: number;
  concurrencyLimit: number | null;
  rateLimit: { limit: number; intervalMs: number } | null;
  /** What it finished in the server's recent window (5 minutes). */
  recent: {
    windowMs: number;
    completed: number;
    failed: number;
    throughputPerSecond: number;
    /** Creation to finish, ms. */
    latencyMs: { p50: number; p95: number; p99: number } | null;
  };
}

export interface WorkerInfo {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  names: string[];
  heartbeatAgeMs: number;
  live: boolean;
  running: number;
}

export interface Schedule {
  name: string;
  cron: string;
  timezone: string | null;
  job: string;
  queue: string;
  nextFireAt: string;
  lastFireAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const KEY = 'baton.apiKey';

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { authorization: `Bearer ${key}` } : {};
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const e = (
      body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null
    )?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText, e?.details);
  }
  return body as T;
}

/** A query string from the fields that have a value. */
export function queryString(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
