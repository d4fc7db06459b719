// A durable order: charge, receipt, wait for approval, a cooling-off sleep, ship. Every step runs
// once and is checkpointed; while the order waits it holds no memory in any worker, and any worker
// can resume it, even after a crash or a deploy.
//
//   npx --no-install baton dev examples/workflows/order.ts       # embedded: a worker, and demo() below
//
// Or on PostgreSQL (embedded PGlite serves one process at a time), with BATON_DATABASE_URL set:
//   npx --no-install baton worker examples/workflows/order.ts    # serves the `orders` queue; in another shell:
//   npx --no-install baton workflows start order --id order-42 --input '{"order":"A-42","cents":4200,"email":"ada@example.com"}'
//   npx --no-install baton workflows signal order-42 approve --payload '{"by":"ops@example.com"}'
//   npx --no-install baton workflows show order-42
import { defineWorkflow, type Client } from '@baton/core';
import { timelineText } from 'baton';

export interface OrderInput {
  order: string;
  cents: number;
  email: string;
}

export const order = defineWorkflow('order', { queue: 'orders' }, async (ctx, input: OrderInput) => {
  // The step's idempotency key is the same on every attempt and replay: hand it to the payment
  // provider so that a retried charge is never charged twice. Its declared input is recorded in
  // the history, so `baton workflows show` says what was charged.
  const charge = await ctx.step(
    'charge',
    (s) => ({ chargeId: `ch_${s.input.order}`, cents: s.input.cents, idempotencyKey: s.idempotencyKey }),
    { input: { order: input.order, cents: input.cents }, retries: 3, timeout: '30s' },
  );
  await ctx.step('send-receipt', () => ({
    to: input.email,
    text: `We charged ${input.cents / 100} for ${input.order}`,
  }));

  const approval = await ctx.waitForSignal<{ by: string }>('approve', { timeout: '1h' });
  if (approval === null) {
    // Nobody approved within the hour: give the money back.
    await ctx.step('refund', () => ({ chargeId: charge.chargeId, refunded: input.cents }));
    return { order: input.order, status: 'refunded' as const };
  }

  // Durable: a worker restarting now resumes the order when the sleep is over, not from the start.
  await ctx.sleep('2s');
  const shipment = await ctx.step('ship', () => ({ carrier: 'ACME', tracking: `TRK-${input.order}` }));
  return {
    order: input.order,
    status: 'shipped' as const,
    approvedBy: approval.by,
    tracking: shipment.tracking,
  };
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run by `baton dev`: starts an order, approves it once it waits, and prints its timeline. */
export async function demo(client: Client, print: (line: string) => void): Promise<string[]> {
  const id = `order-A-1001-${Date.now().toString(36)}`;
  const input: OrderInput = { order: 'A-1001', cents: 4200, email: 'ada@example.com' };
  await client.start(order, input, { id });
  const again = await client.start(order, input, { id });
  print(
    `order workflow started as ${id}; started again with the same id: ${again.created ? 'two runs (bug!)' : 'the same run'}`,
  );

  await until(`${id} to wait for approval`, async () =>
    (await client.describe(id)).history.some((h) => h.kind === 'signal' && h.status === 'waiting'),
  );
  print(`${id} is suspended, waiting for signal 'approve'; sending it`);
  await client.signal(id, 'approve', { by: 'ops@example.com' });

  const result = await client.result(id, { timeout: '1m' });
  print(`${id} finished: ${JSON.stringify(result)}`);
  print('');
  print(timelineText(await client.describe(id)));
  return [id];
}
