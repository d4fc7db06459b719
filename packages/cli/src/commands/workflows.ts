import { Command } from 'commander';
import { BatonError, Client, type Execution, type WorkflowDefinition, nearest } from '@baton/core';
import { loadUserModules, type LoadedModule } from '../load-module.js';
import { workflowDetail, workflowTable } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { STATUSES, parseIntOption, parseJsonOption, parseStatusOption, parseWhen } from './options.js';

/** The workflow named `name` in the loaded modules, or an error that says what they do define. */
export function findWorkflow(mod: LoadedModule, name: string): WorkflowDefinition {
  const hit = mod.workflows.find((w) => w.name === name);
  if (hit) return hit;
  if (mod.jobs.some((j) => j.name === name)) {
    throw new BatonError(
      'E_UNKNOWN_WORKFLOW',
      `'${name}' is a job, not a workflow: enqueue it with \`baton enqueue ${name}\``,
      { details: { name } },
    );
  }
  const names = mod.workflows.map((w) => w.name).sort();
  const near = nearest(name, names);
  throw new BatonError(
    'E_UNKNOWN_WORKFLOW',
    `no workflow named '${name}' in ${mod.path}${near ? ` — did you mean '${near}'?` : '.'} ` +
      (names.length
        ? `Workflows there: ${names.join(', ')}.`
        : 'It defines no workflow: export the value returned by defineWorkflow().'),
    { details: { name, known: names } },
  );
}

/** Refuses an execution that is not a workflow, with a pointer to `baton jobs`. */
function ensureWorkflow<E extends Execution>(e: E, id: string, verb: string): E {
  if (e.kind !== 'workflow') {
    throw new BatonError(
      'E_INVALID_STATE',
      `execution ${id} is ${e.kind === 'activity' ? 'an activity' : `a ${e.kind}`} ('${e.name}'), not a workflow; ${verb} it with \`baton jobs ${verb} ${id}\``,
    );
  }
  return e;
}

export function workflowsCommand(globals: () => GlobalOptions, io: Io): Command {
  const workflows = new Command('workflows').description('start, signal, inspect and cancel workflows');
  workflows
    .command('start')
    .description(
      'start a workflow by name; a worker serving its queue runs it (`baton worker` on the module that defines it)',
    )
    .argument('<workflow>', 'workflow name')
    .option(
      '-m, --module <path...>',
      'module(s) defining the workflow, to start it from its definition (checks the input against its schema here); without, the name must be registered by a worker',
    )
    .option('-i, --input <json>', 'workflow input as JSON', 'null')
    .option(
      '--id <id>',
      'your id for the run, e.g. order-42; starting again with the same id returns that run',
    )
    .option('-q, --queue <queue>', 'queue (default: the workflow’s)')
    .option('--priority <n>', 'higher runs first')
    .option('--delay <duration>', 'start no earlier than this from now, e.g. 30s, 5m')
    .option('--run-at <iso>', 'start no earlier than this time (ISO 8601; one in the past means now)')
    .option(
      '--timeout <duration>',
      'fail with E_TIMEOUT past this long after it is due (overrides the workflow’s own)',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string,
        o: {
          module?: string[];
          input: string;
          id?: string;
          queue?: string;
          priority?: string;
          delay?: string;
          runAt?: string;
          timeout?: string;
          json?: boolean;
        },
      ) => {
        const input = parseJsonOption(o.input, '--input', '{"order":"A-1001"}');
        const priority = parseIntOption(o.priority, '--priority');
        const { runAt, delay } = parseWhen(o);
        const def = o.module ? findWorkflow(await loadUserModules(o.module), name) : name;
        await withStore(globals(), async (store) => {
          const r = await new Client(store).start(def, input, {
            id: o.id,
            queue: o.queue,
            priority,
            runAt,
            delay,
            timeout: o.timeout,
          });
          io.out(
            o.json
              ? JSON.stringify(r)
              : r.created
                ? `started ${name} as ${r.id}`
                : `already started: ${r.id} (same id); see it with \`baton workflows show ${r.id}\``,
          );
        });
      },
    );
  workflows
    .command('signal')
    .description('send a signal to a workflow; it is buffered until the workflow waits for it')
    .argument('<id>', 'workflow id')
    .argument('<name>', 'signal name, as in ctx.waitForSignal(name)')
    .option('-p, --payload <json>', 'signal payload as JSON', 'null')
    .option(
      '-k, --idempotency-key <key>',
      'send at most once per key: repeating the command (after a timeout, say) stores nothing new',
    )
    .action(async (id: string, name: string, o: { payload: string; idempotencyKey?: string }) => {
      const payload = parseJsonOption(o.payload, '--payload', '{"approvedBy":"ada"}');
      await withStore(globals(), async (store) => {
        await new Client(store).signal(id, name, payload, { idempotencyKey: o.idempotencyKey });
        io.out(`sent signal '${name}' to ${id}`);
      });
    });
  workflows
    .command('cancel')
    .description('cancel a queued, waiting or running workflow (a running one sees its AbortSignal)')
    .argument('<id>', 'workflow id')
    .action(async (id: string) => {
      await withStore(globals(), async (store) => {
        const client = new Client(store);
        ensureWorkflow(await client.get(id), id, 'cancel');
        const r = await client.cancel(id);
        io.out(r.status === 'cancelled' ? `cancelled ${id}` : `cancellation requested for running ${id}`);
      });
    });
  workflows
    .command('list')
    .description('list workflows, newest first')
    .option('-s, --status <status>', `one of ${STATUSES.join(', ')}`)
    .option('-n, --name <workflow>')
    .option('-q, --queue <queue>')
    .option('-l, --limit <n>', 'at most this many (1-1000)', '50')
    .option('--json', 'print JSON')
    .action(async (o: { status?: string; name?: string; queue?: string; limit: string; json?: boolean }) => {
      const status = parseStatusOption(o.status);
      await withStore(globals(), async (store) => {
        const list = await new Client(store).list({
          kind: 'workflow',
          status,
          name: o.name,
          queue: o.queue,
          limit: parseIntOption(o.limit, '--limit'),
        });
        io.out(
          o.json ? JSON.stringify(list, null, 2) : list.length ? workflowTable(list) : 'no workflows match',
        );
      });
    });
  workflows
    .command('show')
    .description('show one workflow with its history as a timeline')
    .argument('<id>', 'workflow id')
    .option('--json', 'print JSON (the execution with its history)')
    .action(async (id: string, o: { json?: boolean }) => {
      await withStore(globals(), async (store) => {
        const e = ensureWorkflow(await new Client(store).describe(id), id, 'show');
        io.out(o.json ? JSON.stringify(e, null, 2) : workflowDetail(e));
      });
    });
  return workflows;
}
