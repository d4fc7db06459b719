// GET /api/events: a server-sent event stream of execution changes, filtered per client, resumable
// with Last-Event-ID within the hub's window. A client that cannot keep up is disconnected (it
// reconnects and resumes from its last id) rather than buffered without bound.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { EXECUTION_KINDS, EXECUTION_STATUSES } from '@baton/core';
import { commaList } from '../schemas.js';
import type { ServerEnv } from '../auth.js';
import { apiRoute } from '../route.js';
import { CHANGE_TYPES, type EventFilter, type EventHub, type FeedEvent } from '../event-hub.js';

/** Events queued for one client beyond which it is dropped. */
const MAX_BACKLOG = 10_000;
/** A comment line this often keeps proxies from closing an idle stream (and re-checks the key). */
export const KEEPALIVE_MS = 15_000;
/** A write the client does not take within this long (it stopped reading) ends its stream. */
const WRITE_TIMEOUT_MS = 30_000;
/** What EventSource waits before reconnecting. */
const RETRY_MS = 2000;

const events = apiRoute('viewer', {
  method: 'get',
  path: '/api/events',
  summary: 'Live changes (server-sent events), resumable with Last-Event-ID',
  description:
    'An `execution` event is an execution inserted or changing status: `{type, id, status, kind, queue, name, at}`. With the Architect, `task`, `session` and `alert` events are tasks changing status or session, sessions changing state, and alerts raised, acknowledged or cleared: `{type, id, status, …, at}`. `kind`, `status`, `queue` and `name` filter executions; given without `types`, only executions come. The first event, `ready`, carries the id to resume from. A `reset` event means changes were missed or cannot be replayed: reload what you show.',
  request: {
    query: z.object({
      types: commaList(CHANGE_TYPES, 'change types (default all)', 'execution,task'),
      kind: commaList(EXECUTION_KINDS, 'kinds', 'workflow'),
      status: commaList(EXECUTION_STATUSES, 'statuses', 'completed,failed'),
      queue: commaList(undefined, 'queues', 'default'),
      name: commaList(undefined, 'job or workflow names', 'send-email'),
      lastEventId: z
        .string()
        .max(64)
        .optional()
        .openapi({ description: 'as the Last-Event-ID header, for clients that cannot set it' }),
    }),
  },
  responses: {
    200: {
      description: 'The event stream',
      content: { 'text/event-stream': { schema: z.string() } },
    },
  },
});

/** False when the write did not complete in time: the client has stopped reading. */
async function written(write: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), WRITE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([write.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const frame = (event: string, id: string, data: unknown) =>
  `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;

export function eventRoutes(app: OpenAPIHono<ServerEnv>, hub: EventHub, keepAliveMs = KEEPALIVE_MS): void {
  app.openapi(events, (c) => {
    const { lastEventId, ...query } = c.req.valid('query');
    const asSet = (list: readonly string[] | undefined) => (list ? new Set(list) : undefined);
    const filter: EventFilter = {
      types: asSet(query.types),
      kind: asSet(query.kind),
      status: asSet(query.status),
      queue: asSet(query.queue),
      name: asSet(query.name),
    };
    const resumeFrom = c.req.header('last-event-id') ?? lastEventId;
    const stillAuthorized = c.get('stillAuthorized');
    // Proxies that buffer (nginx) would hold events back.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let pending: string[] = [];
      let overflow = false;
      let wake: (() => void) | undefined;
      const push = (text: string) => {
        if (pending.length >= MAX_BACKLOG) overflow = true;
        else pending.push(text);
        wake?.();
      };
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      const unsubscribe = await hub.subscribe(
        {
          filter,
          deliver: (evs: FeedEvent[]) => {
            for (const e of evs) push(frame(e.data.type, e.id, e.data));
          },
          reset: (reason) => push(frame('reset', hub.lastId, { reason })),
        },
        resumeFrom,
      );
      try {
        push(`retry: ${RETRY_MS}\n\n` + frame('ready', hub.lastId, { lastEventId: hub.lastId }));
        while (!stream.aborted && !overflow) {
          if (!pending.length) {
            let timer: NodeJS.Timeout | undefined;
            const idle = await Promise.race([
              new Promise<boolean>((resolve) => {
                wake = () => resolve(false);
                timer = setTimeout(() => resolve(true), keepAliveMs);
              }),
              closed.then(() => false),
            ]);
            clearTimeout(timer);
            wake = undefined;
            // A key revoked (or a token expired) since the stream opened ends it at the next beat.
            if (idle && !(await stillAuthorized())) break;
            if (idle && !(await written(stream.write(': keep-alive\n\n')))) {
              stream.abort();
              break;
            }
            continue;
          }
          const text = pending.join('');
          pending = [];
          if (!(await written(stream.write(text)))) {
            stream.abort();
            break;
          }
        }
      } finally {
        unsubscribe();
      }
    });
  });
}
