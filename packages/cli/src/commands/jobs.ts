import { Command } from 'commander';
import { BatonError, Client } from '@baton/core';
import { loadUserModules } from '../load-module.js';
import { executionDetail, executionTable } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { STATUSES, parseIntOption, parseJsonOption, parseStatusOption } from './options.js';

function parseInput(text: string | undefined): unknown {
  return parseJsonOption(text, '--input', '{"to":"ada@example.com"}');
}

export function enqueueCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('enqueue')
    .description('enqueue one job by name')
    .argument('<job>', 'job name')
    .option('-i, --input <json>', 'job input as JSON', 'null')
    .option('-q, --queue <queue>', 'queue (default: the job’s)')
    .option('--priority <n>', 'higher runs first')
    .option('--delay <duration>', 'run no earlier than this from now, e.g. 30s, 5m')
    .option('--run-at <iso>', 'run no earlier than this time (ISO 8601)')
    .option('--key <key>', 'idempotency key')
    .option('--max-attempts <n>', 'attempts in all')
    .option('-m, --module <path...>', 'module(s) defining the job, to validate the input locally')
    .option('--json', 'print the result as JSON')
    .action(async (job: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const input = parseInput(o.input as string);
      let runAt: Date | undefined;
      if (o.runAt !== undefined) {
        runAt = new Date(o.runAt as string);
        if (Number.isNaN(runAt.getTime()))
          throw new BatonError(
            'E_INVALID_OPTION',
            `--run-at '${o.runAt}' is not an ISO 8601 time, e.g. 2026-12-01T09:00:00Z`,
          );
      }
      const delay =
        o.delay === undefined
          ? undefined
          : /^\d+(\.\d+)?$/.test(o.delay as string)
            ? Number(o.delay)
            : (o.delay as string);
      if (typeof o.delay === 'string' && o.delay.trim().startsWith('-')) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `--delay must not be negative, got '${o.delay}'; use --run-at for a time in the past`,
        );
      }
      const mod = o.module ? await loadUserModules(o.module as string[]) : undefined;
      await withStore(globals(), async (store) => {
        const client = new Client(store, mod?.jobs);
        const r = await client.enqueue(job, input, {
          queue: o.queue as string | undefined,
          priority: parseIntOption(o.priority as string | undefined, '--priority'),
          delay,
          runAt,
          idempotencyKey: o.key as string | undefined,
          maxAttempts: parseIntOption(o.maxAttempts as string | undefined, '--max-attempts'),
        });
        io.out(
          o.json
            ? JSON.stringify(r)
            : r.created
              ? `enqueued ${job} as ${r.id}`
              : `already enqueued: ${r.id} (same idempotency key)`,
        );
      });
    });
}

export function jobsCommand(globals: () => GlobalOptions, io: Io): Command {
  const jobs = new Command('jobs').description('inspect and manage jobs');
  jobs
    .command('list')
    .description('list executions, newest first')
    .option('-s, --status <status>', `one of ${STATUSES.join(', ')}`)
    .option('-q, --queue <queue>')
    .option('-n, --name <job>')
    .option('-l, --limit <n>', 'at most this many (1-1000)', '50')
    .option('--json', 'print JSON')
    .action(async (o: { status?: string; queue?: string; name?: string; limit: string; json?: boolean }) => {
      const status = parseStatusOption(o.status);
      await withStore(globals(), async (store) => {
        const list = await new Client(store).list({
          status,
          queue: o.queue,
          name: o.name,
          limit: parseIntOption(o.limit, '--limit'),
        });
        io.out(
          o.json ? JSON.stringify(list, null, 2) : list.length ? executionTable(list) : 'no executions match',
        );
      });
    });
  jobs
    .command('show')
    .description('show one execution with its attempts')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withStore(globals(), async (store) => {
        const e = await new Client(store).get(id);
        io.out(o.json ? JSON.stringify(e, null, 2) : executionDetail(e));
      });
    });
  jobs
    .command('cancel')
    .description('cancel a queued or running job (a running one sees its AbortSignal)')
    .argument('<id>')
    .action(async (id: string) => {
      await withStore(globals(), async (store) => {
        const r = await new Client(store).cancel(id);
        io.out(r.status === 'cancelled' ? `cancelled ${id}` : `cancellation requested for running ${id}`);
      });
    });
  jobs
    .command('retry')
    .description('put a failed or cancelled job back in its queue')
    .argument('<id>')
    .action(async (id: string) => {
      await withStore(globals(), async (store) => {
        await new Client(store).retry(id);
        io.out(`requeued ${id}`);
      });
    });
  jobs
    .command('prune')
    .description('delete finished executions past retention')
    .option('--completed <age>', 'age of completed executions to delete', '7d')
    .option('--failed <age>', 'age of failed and cancelled executions to delete', '30d')
    .action(async (o: { completed: string; failed: string }) => {
      await withStore(globals(), async (store) => {
        const n = await new Client(store).prune({ completed: o.completed, failed: o.failed });
        io.out(`pruned ${n} executions`);
      });
    });
  return jobs;
}
