// The README demo: `npm run demo` runs these jobs, and the order workflow of
// examples/workflows/order.ts, on embedded PGlite with `baton dev examples/jobs/demo.ts`.
// Run them on PostgreSQL instead with `npx --no-install baton worker examples/jobs/demo.ts --database postgres://…`.
import { defineJob, defineSchedule, NonRetryableError, type Client } from '@baton/core';
import { demo as orderDemo } from '../workflows/order.js';

// Re-exported so that a worker on this module runs the order workflow too.
export { order } from '../workflows/order.js';

export const sendWelcomeEmail = defineJob('send-welcome-email', {}, async (input: { to: string }, ctx) => {
  ctx.logger.info({ to: input.to }, 'sending welcome email');
  // Handing ctx.id to the mail provider as its idempotency key makes a retried attempt safe.
  return { messageId: `msg-${ctx.id.slice(-8)}`, to: input.to };
});

/** Fails its first attempt (a flaky upstream) and succeeds on the retry. */
export const resizeImage = defineJob(
  'resize-image',
  { retry: { maxAttempts: 3, baseDelay: '200ms', jitter: 'none' } },
  async (input: { url: string; width: number }, ctx) => {
    if (ctx.attempt === 1) throw new Error('image service answered 503 (simulated)');
    return { url: input.url.replace(/(\.\w+)$/, `-${input.width}w$1`), attempt: ctx.attempt };
  },
);

/** Charged at most once per order: enqueued with the order id as idempotency key. */
export const chargeCard = defineJob(
  'charge-card',
  { queue: 'payments' },
  async (input: { order: string; cents: number }) => {
    return { charged: input.cents, order: input.order };
  },
);

/** Reports progress through heartbeats while it works. */
export const buildReport = defineJob(
  'build-report',
  { timeout: '10s' },
  async (input: { pages: number }, ctx) => {
    for (let page = 1; page <= input.pages; page++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await new Promise((r) => setTimeout(r, 50));
      ctx.heartbeat({ page, of: input.pages });
    }
    return { pages: input.pages };
  },
);

/** Input it can never accept fails at once, without retries. */
export const importContacts = defineJob(
  'import-contacts',
  { retry: { maxAttempts: 5 } },
  async (input: { file: string }) => {
    if (!input.file.endsWith('.csv')) throw new NonRetryableError(`'${input.file}' is not a CSV file`);
    return { imported: 3 };
  },
);

export const tick = defineJob('tick', {}, async () => ({ at: new Date().toISOString() }));

/** Fires every 2 seconds, exactly once per fire however many workers run. */
export const everyTwoSeconds = defineSchedule('tick-every-2s', { cron: '*/2 * * * * *', job: tick });

/** Enqueued by `baton dev`; returns the ids it reports on. */
export async function demo(client: Client, print: (line: string) => void): Promise<string[]> {
  const ids: string[] = [];
  const email = await client.enqueue(sendWelcomeEmail, { to: 'ada@example.com' });
  ids.push(email.id);
  ids.push((await client.enqueue(resizeImage, { url: 'https://cdn.example.com/cat.png', width: 320 })).id);

  const first = await client.enqueue(
    chargeCard,
    { order: 'A-1001', cents: 4200 },
    { idempotencyKey: 'order-A-1001' },
  );
  const again = await client.enqueue(
    chargeCard,
    { order: 'A-1001', cents: 4200 },
    { idempotencyKey: 'order-A-1001' },
  );
  print(
    `charge-card enqueued twice with key order-A-1001: ${first.id === again.id ? 'one job' : 'two jobs (bug!)'} (${first.id})`,
  );
  ids.push(first.id);

  ids.push((await client.enqueue(buildReport, { pages: 5 })).id);
  ids.push((await client.enqueue(importContacts, { file: 'contacts.xlsx' })).id);
  ids.push((await client.enqueue(sendWelcomeEmail, { to: 'grace@example.com' }, { delay: '1s' })).id);

  const later = await client.enqueue(sendWelcomeEmail, { to: 'nobody@example.com' }, { delay: '1h' });
  await client.cancel(later.id);
  ids.push(later.id);

  const batch = await client.enqueueMany(
    sendWelcomeEmail,
    Array.from({ length: 1000 }, (_, i) => ({ input: { to: `user${i}@example.com` } })),
  );
  print(`enqueued 1,000 emails in one round trip; waiting for everything to finish…`);
  await Promise.all(batch.map((b) => client.waitFor(b.id)));
  print(`1,000 emails sent`);
  print('');
  ids.push(...(await orderDemo(client, print)));
  return ids;
}
