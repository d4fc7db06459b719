// `baton usage`: what LLM calls cost, from the usage ledger (baton.ai_calls), grouped; and
// `baton ai breakers`: the providers' circuit breakers, shared by every process on the store.
import { Command } from 'commander';
import { BatonError, toMs } from '@baton/core';
import {
  BreakerStore,
  USAGE_GROUPS,
  UsageLedger,
  aiTablesExist,
  type UsageGroup,
  type UsageLine,
} from '@baton/ai';
import { table } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';

const money = (usd: number) => `$${usd.toFixed(4)}`;

function usageTable(lines: UsageLine[], by: UsageGroup): string {
  const total = lines.reduce(
    (t, l) => ({
      requests: t.requests + l.requests,
      failed: t.failed + l.failed,
      input: t.input + l.inputTokens,
      output: t.output + l.outputTokens,
      cost: t.cost + l.cost,
      unpriced: t.unpriced + l.unpriced,
    }),
    { requests: 0, failed: 0, input: 0, output: 0, cost: 0, unpriced: 0 },
  );
  const rows = lines.map((l) => [
    l.key ?? '(none)',
    String(l.requests),
    String(l.failed),
    String(l.inputTokens),
    String(l.outputTokens),
    String(l.cachedTokens),
    money(l.cost) + (l.unpriced ? ` + ${l.unpriced} unpriced` : ''),
  ]);
  rows.push([
    'total',
    String(total.requests),
    String(total.failed),
    String(total.input),
    String(total.output),
    '',
    money(total.cost) + (total.unpriced ? ` + ${total.unpriced} unpriced` : ''),
  ]);
  return table([by, 'requests', 'failed', 'input tok', 'output tok', 'cached tok', 'cost'], rows);
}

export function usageCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('usage')
    .description('LLM usage and cost from the ledger: requests, failures, tokens and USD, grouped')
    .option('--by <group>', `group by ${USAGE_GROUPS.join(', ')}`, 'provider')
    .option('--since <duration>', 'calls this recent (e.g. 24h, 7d)', '7d')
    .option('--json', 'print JSON')
    .action(async (o: { by: string; since: string; json?: boolean }) => {
      if (!(USAGE_GROUPS as readonly string[]).includes(o.by))
        throw new BatonError('E_INVALID_OPTION', `--by ${o.by}: group by one of ${USAGE_GROUPS.join(', ')}`);
      const by = o.by as UsageGroup;
      const from = Date.now() - toMs(o.since, '--since');
      await withStore(globals(), async (store) => {
        const lines = (await aiTablesExist(store.driver))
          ? await new UsageLedger(store.driver).report(by, from)
          : [];
        if (o.json) io.out(JSON.stringify({ by, since: new Date(from).toISOString(), lines }, null, 2));
        else if (lines.length === 0) io.out(`no LLM calls recorded in the last ${o.since}`);
        else io.out(usageTable(lines, by));
      });
    });
}

export function aiCommand(globals: () => GlobalOptions, io: Io): Command {
  const ai = new Command('ai').description('the AI layer: LLM providers and their circuit breakers');
  const breakers = ai
    .command('breakers')
    .description("the providers' circuit breakers (closed, open until a time, half-open)")
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withStore(globals(), async (store) => {
        const list = (await aiTablesExist(store.driver)) ? await new BreakerStore(store.driver).list() : [];
        if (o.json) io.out(JSON.stringify(list, null, 2));
        else if (list.length === 0) io.out('every breaker is closed (no provider has failed)');
        else
          io.out(
            table(
              ['provider', 'state', 'recent failures', 'reopens at', 'recovery'],
              list.map((b) => [
                b.provider,
                b.phase,
                String(b.recentFailures),
                b.reopensAt === null ? '' : new Date(b.reopensAt).toISOString(),
                `${b.recoveryMs / 1000} s`,
              ]),
            ),
          );
      });
    });
  breakers
    .command('reset')
    .description("close a provider's breaker by hand")
    .argument('<provider>', 'provider name from llm_providers.yaml')
    .action(async (provider: string) => {
      await withStore(globals(), async (store) => {
        if (await aiTablesExist(store.driver)) await new BreakerStore(store.driver).reset(provider);
        io.out(`the breaker of '${provider}' is closed`);
      });
    });
  return ai;
}
