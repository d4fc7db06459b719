// The page's one event stream (GET /api/events), read with fetch so that it can carry the API key
// (EventSource cannot set headers). It reconnects with Last-Event-ID; a `reset` from the server, or
// a reconnect it could not resume, tells listeners to reload everything.
import { authHeaders } from './api';

/** An execution's change (`kind`, `queue`, `name` set), or a task's, session's or alert's. */
export interface LiveEvent {
  type: 'execution' | 'task' | 'session' | 'alert';
  id: string;
  status: string;
  kind?: string;
  queue?: string;
  name?: string;
  at: string;
}

const CHANGE_EVENTS = new Set(['execution', 'task', 'session', 'alert']);

export type LiveMessage = { type: 'events'; events: LiveEvent[] } | { type: 'reset' };
export type LiveState = 'connecting' | 'live' | 'retrying';

const listeners = new Set<(m: LiveMessage) => void>();
const stateListeners = new Set<() => void>();
let state: LiveState = 'connecting';
let started = false;
let lastEventId: string | undefined;
/** Ends the connection in progress (a new key: the stream must be opened with it). */
let abortCurrent: (() => void) | undefined;
/** Wakes the retry wait at once. */
let retryNow: (() => void) | undefined;

function setState(s: LiveState) {
  state = s;
  for (const l of stateListeners) l();
}

function emit(m: LiveMessage) {
  for (const l of listeners) l(m);
}

/** Reads one connection until it ends; returns normally on a clean end. */
async function readStream(): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const abort = new AbortController();
  abortCurrent = () => abort.abort();
  const res = await fetch('/api/events', { headers, signal: abort.signal });
  if (!res.ok || !res.body)
    throw Object.assign(new Error(`event stream: HTTP ${res.status}`), { status: res.status });
  setState('live');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const batch: LiveEvent[] = [];
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      let id: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = line.slice(6);
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      if (id) lastEventId = id;
      if (CHANGE_EVENTS.has(event)) batch.push(JSON.parse(data) as LiveEvent);
      else if (event === 'reset') emit({ type: 'reset' });
    }
    if (batch.length) emit({ type: 'events', events: batch });
  }
}

async function run() {
  for (;;) {
    let refused = false;
    try {
      await readStream();
    } catch (err) {
      // The server is gone, or refused the key: try again, slowly while no key is accepted.
      refused = (err as { status?: number }).status === 401;
    }
    abortCurrent = undefined;
    setState('retrying');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, refused ? 15_000 : 2000);
      retryNow = () => {
        clearTimeout(t);
        resolve();
      };
    });
    retryNow = undefined;
  }
}

/** Opens the stream again now, with the key the tab has now (after a sign-in or sign-out). */
export function reconnectLive(): void {
  abortCurrent?.();
  retryNow?.();
}

/** Subscribes to the page's stream (opening it on first use); returns the unsubscribe function. */
export function subscribeLive(listener: (m: LiveMessage) => void): () => void {
  listeners.add(listener);
  if (!started) {
    started = true;
    void run();
  }
  return () => listeners.delete(listener);
}

export const liveState = {
  get: () => state,
  subscribe: (l: () => void) => {
    stateListeners.add(l);
    return () => stateListeners.delete(l);
  },
};
