import { Command } from 'commander';
import { BatonError, Client } from '@baton/core';
import { loadUserModules } from '../load-module.js';
import { executionDetail, executionTable } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { STATUSES, parseIntOption, parseJsonOption, parseStatusOption, parseWhen } from './options.js';

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
      const { runAt, delay } = parseWhen({
        runAt: o.runAt as string | undefined,
        delay: o.delay as string | undefined,
      });
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
    .option(
      '--dead',
      'dead letters only: executions that failed for good (retry them with `jobs retry --all-dead`)',
    )
    .option('-q, --queue <queue>')
    .option('-n, --name <job>')
    .option('-l, --limit <n>', 'at most this many (1-1000)', '50')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        status?: string;
        dead?: boolean;
        queue?: string;
        name?: string;
        limit: string;
        json?: boolean;
      }) => {
        const status = parseStatusOption(o.status);
        if (o.dead && status)
          throw new BatonError(
            'E_INVALID_OPTION',
            'give --dead or --status, not both (dead letters are the failed executions)',
          );
        await withStore(globals(), async (store) => {
          const list = await new Client(store).list({
            dead: o.dead,
            status,
            queue: o.queue,
            name: o.name,
            limit: parseIntOption(o.limit, '--limit'),
          });
          io.out(
            o.json
              ? JSON.stringify(list, null, 2)
              : list.length
                ? executionTable(list)
                : o.dead
                  ? 'no dead letters'
                  : 'no executions match',
          );
        });
      },
    );
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
    .description(
      'put a failed or cancelled execution back in its queue, or every dead letter with --all-dead',
    )
    .argument('[id]')
    .option('--all-dead', 'retry every dead letter (failed for good), narrowed by --name, --queue')
    .option('-n, --name <job>', 'with --all-dead: only this job (or workflow)')
    .option('-q, --queue <queue>', 'with --all-dead: only this queue')
    .action(async (id: string | undefined, o: { allDead?: boolean; name?: string; queue?: string }) => {
      if (Boolean(o.allDead) === (id !== undefined))
        throw new BatonError(
          'E_INVALID_OPTION',
          id === undefined
            ? 'say which: `baton jobs retry <id>`, or `baton jobs retry --all-dead [--name job]` for every dead letter'
            : 'give an id or --all-dead, not both',
        );
      if (!o.allDead && (o.name !== undefined || o.queue !== undefined))
        throw new BatonError(
          'E_INVALID_OPTION',
          '--name and --queue narrow --all-dead; with an id, leave them out',
        );
      await withStore(globals(), async (store) => {
        const client = new Client(store);
        if (id !== undefined) {
          await client.retry(id);
          io.out(`requeued ${id}`);
          return;
        }
        const n = await client.retryDead({ name: o.name, queue: o.queue });
        const which = [o.name && `'${o.name}'`, o.queue && `on queue '${o.queue}'`].filter(Boolean).join(' ');
        io.out(
          n === 0
            ? `no dead letters${which ? ` of ${which}` : ''} to retry`
            : `requeued ${n} dead letter${n === 1 ? '' : 's'}${which ? ` of ${which}` : ''}`,
        );
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
