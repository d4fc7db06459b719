// Tracing: without an OpenTelemetry SDK nothing is stored; with one, an enqueue's or start's span
// is the parent of the attempts' spans, and one trace covers a workflow, its steps, activities
// and children across processes (PostgreSQL, a real worker process with its own SDK).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { backends, freshDatabase, quietLogger } from './backends.js';
import { Client, Store, Worker, defineJob } from '../src/index.js';
import { tracedParent } from './fixtures/traced-defs.js';

const storedContext = async (store: Store, id: string) =>
  (
    await store.driver.query<{ trace_context: string | null }>(
      'SELECT trace_context FROM baton.executions WHERE id = $1',
      [id],
    )
  )[0]!.trace_context;

const exporter = new InMemorySpanExporter();
function registerSdk(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
}

for (const b of backends()) {
  describe(`tracing (${b.name})`, () => {
    let store: Store;
    let client: Client;
    const job = defineJob(`traced-job-${b.name}`, { queue: `traced-${b.name}` }, async (n: number) => n + 1);
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
    });
    afterAll(async () => {
      await store.close();
      trace.disable();
      propagation.disable();
      context.disable();
    });

    it('stores no trace context when no SDK is registered (the API is a no-op)', async () => {
      const { id } = await client.enqueue(job, 1);
      expect(await storedContext(store, id)).toBeNull();
    });

    it("an attempt's span is the child of the enqueue span, in the caller's trace", async () => {
      registerSdk();
      exporter.reset();
      const root = trace.getTracer('test').startSpan('caller');
      const { id } = await context.with(trace.setSpan(context.active(), root), () => client.enqueue(job, 41));
      root.end();
      expect(await storedContext(store, id)).toMatch(/"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"/);
      const worker = new Worker(store, { jobs: [job], pollInterval: 50 });
      await worker.start();
      try {
        expect(await client.result(id, { timeout: '10s' })).toBe(42);
      } finally {
        await worker.stop({ deadline: 2000 });
      }
      const spans = exporter.getFinishedSpans();
      const enqueue = spans.find((s) => s.name === `enqueue ${job.name}`)!;
      // (the job of the first test, enqueued without a trace, runs too: in a trace of its own)
      const attempt = spans.find(
        (s) => s.name === `job ${job.name}` && s.attributes['baton.execution.id'] === id,
      )!;
      expect(enqueue.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(attempt.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(attempt.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
      expect(attempt.attributes).toMatchObject({ 'baton.execution.id': id, 'baton.attempt': 1 });
    });
  });
}

const WORKER = fileURLToPath(new URL('./fixtures/traced-worker.ts', import.meta.url));

describe.runIf(process.env.BATON_PG_URL)('one trace across processes (PostgreSQL)', () => {
  it('covers the start, each run of the workflow, its step, its activity and its child, run by another process', async () => {
    const url = await freshDatabase();
    const store = await Store.open({ databaseUrl: url, logger: quietLogger() });
    await store.migrate();
    registerSdk();
    exporter.reset();
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, BATON_DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${out}`)));
        const t = setInterval(() => out.includes('ready ') && (clearInterval(t), resolve()), 20);
      });
      const client = new Client(store);
      const root = trace.getTracer('test').startSpan('caller');
      const { id } = await context.with(trace.setSpan(context.active(), root), () =>
        client.start(tracedParent, 5),
      );
      root.end();
      expect(await client.result(id, { timeout: '30s' })).toEqual({ a: 5, b: 10, c: 11 });
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const remote = out
        .split('\n')
        .filter((l) => l.startsWith('span '))
        .map(
          (l) =>
            JSON.parse(l.slice(5)) as {
              name: string;
              traceId: string;
              spanId: string;
              parentSpanId: string | null;
            },
        );
      const traceId = root.spanContext().traceId;
      const start = exporter.getFinishedSpans().find((s) => s.name === 'start traced-parent')!;
      expect(start.spanContext().traceId).toBe(traceId);
      const names = new Set(remote.map((s) => s.name));
      for (const n of [
        'workflow traced-parent',
        'step double-check',
        'job traced-activity',
        'workflow traced-child',
        'step child-step',
      ])
        expect(names.has(n), `span '${n}' in ${[...names].join(', ')}`).toBe(true);
      expect(remote.every((s) => s.traceId === traceId)).toBe(true);
      const runs = remote.filter((s) => s.name === 'workflow traced-parent');
      expect(runs.every((s) => s.parentSpanId === start.spanContext().spanId)).toBe(true);
      const runIds = new Set(runs.map((s) => s.spanId));
      const activity = remote.find((s) => s.name === 'job traced-activity')!;
      expect(runIds.has(activity.parentSpanId!)).toBe(true);
      const childRun = remote.find((s) => s.name === 'workflow traced-child')!;
      expect(runIds.has(childRun.parentSpanId!)).toBe(true);
      const step = remote.find((s) => s.name === 'child-step' || s.name === 'step child-step')!;
      expect(remote.filter((s) => s.name === 'workflow traced-child').map((s) => s.spanId)).toContain(
        step.parentSpanId,
      );
    } finally {
      child.kill('SIGKILL');
      await store.close();
    }
  });
});
