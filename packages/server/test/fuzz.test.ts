// Random calls to every route of the OpenAPI document: path parameters, query strings and bodies
// from fast-check, sent by an admin to a real server. Whatever comes in, the reply is a 2xx or a
// 4xx in the API's error format, never a 5xx, and the server keeps answering.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { startServer, type RunningServer } from '../src/index.js';

describe('fuzzed API input', () => {
  let store: Store;
  let server: RunningServer;
  let routes: { method: string; path: string }[] = [];

  beforeAll(async () => {
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    server = await startServer({ store, logger: quietLogger(), port: 0, rateLimit: null });
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const segment = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom(
      '..',
      '%00',
      '%2F',
      'bulk',
      "'; DROP TABLE baton.executions; --",
      '\u0000',
      'x'.repeat(2000),
    ),
  );
  const query = fc.dictionary(
    fc.constantFrom('limit', 'status', 'kind', 'name', 'queue', 'q', 'since', 'until', 'cursor', 'other'),
    fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constant('')),
  );
  const body = fc.oneof(
    fc.json().map((text) => ({ text })),
    fc.string({ maxLength: 200 }).map((text) => ({ text })),
    fc
      .record(
        {
          kind: fc.constantFrom('job', 'workflow', 'task', ''),
          name: fc.string({ maxLength: 30 }),
          input: fc.jsonValue(),
          ids: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
          filter: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()),
          role: fc.string({ maxLength: 10 }),
          delayMs: fc.oneof(fc.integer(), fc.double()),
          priority: fc.oneof(fc.integer(), fc.double()),
        },
        { requiredKeys: [] },
      )
      .map((o) => ({ text: JSON.stringify(o) })),
  );

  it('never answers 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(segment, { minLength: 2, maxLength: 2 }),
        query,
        body,
        async (pick, segments, q, b) => {
          const route = routes[pick % routes.length]!;
          let i = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(segments[i++ % 2]!));
          const search = new URLSearchParams(q).toString();
          const res = await fetch(`${server.url}${path}${search ? `?${search}` : ''}`, {
            method: route.method,
            headers: { 'content-type': 'application/json' },
            body: route.method === 'GET' ? undefined : b.text,
          });
          if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
            expect(res.status).toBe(200);
            await res.body?.cancel();
            return;
          }
          const text = await res.text();
          expect(
            res.status,
            `${route.method} ${path}?${search} ${b.text.slice(0, 200)} → ${text.slice(0, 300)}`,
          ).toBeLessThan(500);
          if (res.status >= 400)
            expect(JSON.parse(text)).toMatchObject({ error: { code: expect.stringMatching(/^E_/) } });
        },
      ),
      { numRuns: 300 },
    );
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
