// Property-based bad input: fast-check throws arbitrary inputs, names, ids, signal payloads,
// durations, dates and cron strings at the public API while a worker runs. Every call either
// succeeds, and then does exactly what it says, or fails with a BatonError that has a code and a
// message; the worker never crashes; what was stored before stays as it was.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { backends } from './backends.js';
import {
  BatonError,
  Client,
  Worker,
  defineJob,
  defineSchedule,
  defineWorkflow,
  textProblem,
  toStorableText,
  type BatonErrorCode,
  type Execution,
  type Store,
} from '../src/index.js';

/** Runs `fn`; a failure must be a BatonError with one of `codes` and a message that says something. */
async function succeedsOrRefuses<T>(
  fn: () => Promise<T> | T,
  codes: BatonErrorCode[],
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof BatonError)) throw new Error(`not a BatonError: ${String(err)}`, { cause: err });
    expect(codes).toContain(err.code);
    expect(err.message.length).toBeGreaterThan(20);
    return undefined;
  }
}

/** What JSON keeps of a value: the round trip an accepted input must survive unchanged. */
const throughJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

/** Strings as they come: any code point, lone surrogates and NUL included. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', 'a\u0000b', '\ud800', 'x\udfff', ' ', 'name with spaces', 'é', '𝄞', 'a'.repeat(300)),
);

/** Values a caller might pass as input or payload: JSON and everything JSON would mangle. */
const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
  },
  { weight: 1, arbitrary: fc.dictionary(anyString, anyString, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, NaN, Infinity, -0, () => 1, Symbol('s'), 10n) },
);

const anyDuration = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -1,
    1e20,
    Number.MAX_VALUE,
    '5s',
    '1.5m',
    '-3s',
    '10 parsecs',
    '',
    '1e3ms',
    '999999999d',
  ),
  anyString,
  fc.constant(null),
  fc.object({ maxDepth: 1 }),
);

const echo = defineJob('echo', { queue: 'props' }, async (input: unknown) => input);
const collector = defineWorkflow('collector', { queue: 'props' }, async (ctx, input: { end: string }) => {
  const got: unknown[] = [];
  for (;;) {
    const v = await ctx.waitForSignal('p');
    if (v === input.end) return got;
    got.push(v);
  }
});

for (const b of backends()) {
  describe(`arbitrary input at the public API (${b.name})`, () => {
    let store: Store;
    let client: Client;
    let worker: Worker;
    let canaries: Execution[];
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
      worker = new Worker(store, { jobs: [echo], workflows: [collector], pollInterval: 50 });
      await worker.start();
      const ids = await client.enqueueMany(echo, [{ input: { canary: 1 } }, { input: ['two', 2] }]);
      for (const { id } of ids) await client.waitFor(id, { timeout: '10s' });
      canaries = await Promise.all(ids.map(({ id }) => client.get(id)));
    });
    afterAll(async () => {
      // The worker survived everything and still works; nothing stored before was touched.
      const { id } = await client.enqueue(echo, 'still alive');
      expect(await client.result(id, { timeout: '10s' })).toBe('still alive');
      expect(await Promise.all(canaries.map((c) => client.get(c.id)))).toEqual(canaries);
      await worker.stop();
      await store.close();
    });

    it('runs every input it accepts and returns it as JSON would; refuses the rest with E_NOT_JSON', async () => {
      await fc.assert(
        fc.asyncProperty(anyValue, async (input) => {
          const e = await succeedsOrRefuses(() => client.enqueue(echo, input), ['E_NOT_JSON']);
          if (!e) return;
          expect(await client.result(e.id, { timeout: '10s' })).toEqual(
            throughJson(input === undefined ? null : input),
          );
        }),
        { numRuns: 150 },
      );
    });

    it('keeps every accepted signal payload, in order, and refuses the others', async () => {
      const end = `end-${Math.random()}`;
      const { id } = await client.start(collector, { end });
      const sent: unknown[] = [];
      await fc.assert(
        fc.asyncProperty(anyValue, async (payload) => {
          const ok = await succeedsOrRefuses(async () => {
            await client.signal(id, 'p', payload);
            return true;
          }, ['E_NOT_JSON']);
          if (ok) sent.push(throughJson(payload === undefined ? null : payload));
        }),
        { numRuns: 100 },
      );
      await client.signal(id, 'p', end);
      expect(await client.result(id, { timeout: '20s' })).toEqual(sent);
    });

    it('answers any id with the execution or a clear error', async () => {
      await fc.assert(
        fc.asyncProperty(anyString, async (id) => {
          const calls: (() => Promise<unknown>)[] = [
            () => client.get(id),
            () => client.describe(id),
            () => client.cancel(id),
            () => client.retry(id),
            () => client.signal(id, 'go', null),
            () => client.getEvent(id, 'k'),
            () => client.waitFor(id, { timeout: 0 }),
          ];
          for (const call of calls) {
            await succeedsOrRefuses(call, [
              'E_NOT_FOUND',
              'E_INVALID_OPTION',
              'E_INVALID_STATE',
              'E_TIMEOUT',
            ]);
          }
        }),
        { numRuns: 60 },
      );
    });

    it('accepts or refuses any name for jobs, queues, signals and schedules, and enqueue by name', async () => {
      await fc.assert(
        fc.asyncProperty(anyString, anyString, async (name, queue) => {
          const def = await succeedsOrRefuses(
            () => defineJob(name, { queue }, () => null),
            ['E_INVALID_OPTION'],
          );
          if (def) expect([def.name, def.queue]).toEqual([name, queue]);
          await succeedsOrRefuses(() => client.enqueue(name, null), ['E_UNKNOWN_JOB', 'E_INVALID_OPTION']);
          await succeedsOrRefuses(() => client.start(name, null), ['E_UNKNOWN_WORKFLOW', 'E_INVALID_OPTION']);
          await succeedsOrRefuses(() => client.enqueue(echo, 1, { queue }), ['E_INVALID_OPTION']);
          await succeedsOrRefuses(
            () => defineSchedule(name, { cron: '* * * * *', job: echo }),
            ['E_INVALID_OPTION'],
          );
        }),
        { numRuns: 80 },
      );
    });

    it('refuses any duration, date or number option it cannot honour, and honours the rest', async () => {
      await fc.assert(
        fc.asyncProperty(
          anyDuration,
          fc.oneof(fc.date({ noInvalidDate: false }), fc.constant(new Date(8.64e15))),
          fc.oneof(fc.integer(), fc.double(), anyString),
          async (duration, date, number) => {
            await succeedsOrRefuses(
              () => defineJob('d', { timeout: duration as never }, () => null),
              ['E_INVALID_OPTION'],
            );
            await succeedsOrRefuses(
              () =>
                new Worker(store, {
                  jobs: [echo],
                  lease: duration as never,
                  pollInterval: duration as never,
                }),
              ['E_INVALID_OPTION'],
            );
            const delayed = await succeedsOrRefuses(
              () => client.enqueue(echo, 1, { delay: duration as never, queue: 'props-later' }),
              ['E_INVALID_OPTION'],
            );
            if (delayed) {
              const e = await client.get(delayed.id);
              expect(e.runAt.getTime()).toBeGreaterThanOrEqual(e.createdAt.getTime());
            }
            const at = await succeedsOrRefuses(
              () => client.enqueue(echo, 1, { runAt: date, queue: 'props-later' }),
              ['E_INVALID_OPTION'],
            );
            if (at) expect((await client.get(at.id)).runAt.getTime()).toBe(date.getTime());
            for (const options of [
              { priority: number },
              { maxAttempts: number },
              { concurrencyKey: 'k', concurrencyLimit: number },
              { idempotencyKey: number },
            ]) {
              await succeedsOrRefuses(
                () => client.enqueue(echo, 1, { ...(options as object), queue: 'props-later' }),
                ['E_INVALID_OPTION'],
              );
            }
          },
        ),
        { numRuns: 120 },
      );
    });

    it('accepts or refuses any cron string and zone, and an accepted one always has a next fire', async () => {
      const cronish = fc.oneof(
        anyString,
        fc
          .array(
            fc.constantFrom('*', '*/5', '0', '59', '60', '1-5', 'MON', 'L', '?', '#', ',', '-1', '1/0', 'W'),
            {
              minLength: 1,
              maxLength: 7,
            },
          )
          .map((parts) => parts.join(' ')),
      );
      await fc.assert(
        fc.asyncProperty(
          cronish,
          fc.oneof(fc.constant(undefined), anyString, fc.constantFrom('Europe/Paris', 'UTC')),
          async (cron, timezone) => {
            const s = await succeedsOrRefuses(
              () => defineSchedule('prop-schedule', { cron, timezone, job: echo }),
              ['E_INVALID_CRON', 'E_INVALID_OPTION'],
            );
            if (s) expect(s.cron).toBe(cron);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
}

describe('toStorableText', () => {
  it('leaves storable text as it is, and makes any other storable without moving a character', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const out = toStorableText(s);
        expect(textProblem(out)).toBeUndefined();
        expect(out.length).toBe(s.length);
        if (textProblem(s) === undefined) expect(out).toBe(s);
        // only what was unstorable changes, each into U+FFFD
        for (let i = 0; i < s.length; i++) if (out[i] !== s[i]) expect(out[i]).toBe('\ufffd');
      }),
      { numRuns: 2000 },
    );
    expect(toStorableText('a\u0000b\ud800c\udc00𝄞')).toBe('a\ufffdb\ufffdc\ufffd𝄞');
  });
});
