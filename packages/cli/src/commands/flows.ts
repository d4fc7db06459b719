// `baton flows`: the YAML workflows of workflows.yaml: validate, list, run, approve, and a worker.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { BatonError, Client, Worker, type Logger, type Store, type WorkflowDefinition } from '@baton/core';
import {
  createArchitect,
  createFlows,
  rulesFromConfig,
  createQueryService,
  ConfigError,
  formatDiagnostic,
  isFlowFunction,
  loadConfig,
  planRun,
  unrunnableSteps,
  type Config,
  type FlowFunctionDefinition,
  type Flows,
  type QueryService,
} from '@baton/flows';
import { makeLogger, openStore, withStore, type GlobalOptions, type Io } from '../context.js';
import { loadUserModules } from '../load-module.js';
import { workflowDetail } from '../format.js';
import { configDir, loadConfigFor } from './config.js';
import { untilSignal } from './worker.js';
import { ExitCode } from './ta.js';

/** The functions and code workflows of the modules given with -m. */
async function modulesOf(paths: readonly string[]): Promise<{
  functions: FlowFunctionDefinition[];
  workflows: WorkflowDefinition[];
}> {
  if (paths.length === 0) return { functions: [], workflows: [] };
  const mod = await loadUserModules(paths);
  const functions: FlowFunctionDefinition[] = [];
  const visit = (v: unknown): void => {
    if (isFlowFunction(v) && !functions.some((f) => f.name === v.name)) functions.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  Object.values(mod.exports).forEach(visit);
  return { functions, workflows: mod.workflows };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * Loads the configuration; each error is printed with the line it is on and a caret under the
 * failing character (a template's expression, a key), and the command exits 1.
 */
async function loadWithFrames(g: GlobalOptions, io: Io): Promise<Config> {
  try {
    return await loadConfig(configDir(g), {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) {
      io.err(formatDiagnostic(d));
      const line = lineOf(d.file, d.line);
      if (line !== undefined) io.err(`  ${line}\n  ${' '.repeat(Math.max(0, d.col - 1))}^`);
    }
    throw new ExitCode(1);
  }
}

/** Line `n` (from 1) of a file, or undefined when it cannot be read. */
function lineOf(file: string, n: number): string | undefined {
  try {
    return readFileSync(file, 'utf8').split('\n')[n - 1]?.replace(/\t/g, ' ');
  } catch {
    return undefined;
  }
}

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BatonError('E_INPUT_INVALID', `${what} is not JSON: ${(err as Error).message}`);
  }
}

/** What {@link withFlows} opened. */
interface OpenedFlows {
  flows: Flows;
  store: Store;
  config: Config;
  workflows: WorkflowDefinition[];
  /**
   * Watches the configuration directory: each valid edit becomes the configuration in force (for the
   * flows, their queries and the Architect's rules), then `onReload` runs. Returns the stop.
   */
  watch(onReload: (config: Config) => Promise<void>): () => void;
}

/** Opens the configuration, the store, the query service (when queries are configured) and the flows. */
async function withFlows<T>(
  g: GlobalOptions,
  io: Io,
  modules: readonly string[],
  fn: (x: OpenedFlows) => Promise<T>,
): Promise<T> {
  let config = await loadConfigFor(g, io);
  const logger = makeLogger(g);
  const { functions, workflows } = await modulesOf(modules);
  const store = await openStore(g, logger, false);
  let queries: QueryService | undefined;
  try {
    await store.migrate();
    if (config.value.queries) queries = await createQueryService(config, { store, logger });
    const q = queries;
    // assign steps send tasks through the Architect (`baton architect` routes them) when it is configured.
    const architect = config.value.routing_rules
      ? await createArchitect({ store, rules: () => rulesFromConfig(config), logger })
      : undefined;
    const flows = await createFlows({
      store,
      // Read at every start: after a reload (watch, below) runs start on the new definitions.
      config: () => config,
      functions,
      workflows,
      logger,
      ...(architect ? { architect } : {}),
      ...(q ? { query: (name, params) => q.run(name, params) } : {}),
    });
    // One reload at a time, in the order the edits came.
    let reloads = Promise.resolve();
    const watch = (onReload: (c: Config) => Promise<void>): (() => void) => {
      const watcher = config.watch(
        ({ config: next }) => {
          reloads = reloads.then(async () => {
            try {
              // The Architect keeps running on rules: a configuration without them is refused.
              if (architect) rulesFromConfig(next);
              await q?.reload(next);
              config = next;
              await onReload(next);
            } catch (err) {
              logger.error(
                { err: (err as Error).message },
                'configuration change not applied; the last one stays in force',
              );
            }
          });
        },
        { logger },
      );
      return () => watcher.close();
    };
    try {
      return await fn({ flows, store, config, workflows, watch });
    } finally {
      await flows.close();
    }
  } finally {
    await queries?.close();
    await store.close();
  }
}

/**
 * With `--detach`, prints the run's id (a `baton flows worker` serves it); otherwise serves it in
 * this process until it ends, and prints its output.
 */
async function detachOrServe(
  opened: { flows: Flows; store: Store; workflows: WorkflowDefinition[] },
  id: string,
  detach: boolean,
  io: Io,
  logger: Logger,
): Promise<void> {
  if (detach) return io.out(id);
  const { flows, store, workflows } = opened;
  io.out(JSON.stringify(await serveUntilDone(store, flows, workflows, id, logger), null, 2));
}

/** Runs a worker for the flows queue in this process until run `id` ends; its output. */
async function serveUntilDone(
  store: Store,
  flows: Flows,
  workflows: WorkflowDefinition[],
  id: string,
  logger: Logger,
): Promise<unknown> {
  // The function steps' activities (jobs) run here too, on the queues the steps name.
  const worker = new Worker(store, {
    workflows: [...flows.definitions, ...workflows],
    jobs: [...flows.jobs],
    queues: flows.queues(),
    logger,
  });
  await worker.start();
  try {
    const stopped = untilSignal().then((sig) => {
      throw new BatonError(
        'E_CANCELLED',
        `${sig}: stopped serving run ${id}; it is kept and resumes under any worker`,
      );
    });
    return await Promise.race([new Client(store).result(id), stopped]);
  } finally {
    await worker.stop({ deadline: 5000 });
  }
}

export function flowsCommand(globals: () => GlobalOptions, io: Io): Command {
  const cmd = new Command('flows').description(
    'YAML workflows (workflows.yaml in the configuration directory)',
  );

  cmd
    .command('validate')
    .description('check workflows.yaml (file:line:col for each problem) and, with -m, the functions it calls')
    .option(
      '-m, --module <path>',
      'module exporting functions (defineFlowFunction) and code workflows',
      collect,
      [],
    )
    .action(async (o: { module: string[] }) => {
      const config = await loadWithFrames(globals(), io);
      const { functions, workflows } = await modulesOf(o.module);
      const names = Object.keys(config.value.workflows?.workflows ?? {});
      const problems = unrunnableSteps(
        config,
        new Set(functions.map((f) => f.name)),
        new Set(workflows.map((w) => w.name)),
      ).filter((p) => o.module.length > 0 || !/unknown function/.test(p));
      for (const p of problems) io.err(p);
      if (problems.length) throw new ExitCode(1);
      io.err(
        `${names.length} workflow${names.length === 1 ? '' : 's'} valid${o.module.length ? '' : ' (functions not checked: give the modules with -m)'}`,
      );
    });

  cmd
    .command('list')
    .description('the YAML workflows: name, trigger, steps and description')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = await loadConfigFor(globals(), io);
      const rows = Object.entries(config.value.workflows?.workflows ?? {}).map(([name, w]) => ({
        name,
        trigger: w.trigger
          ? `${w.trigger.type}${w.trigger.endpoint ? ` ${w.trigger.method ?? 'POST'} ${w.trigger.endpoint}` : ''}`
          : 'manual',
        steps: w.steps.length,
        description: w.description ?? '',
      }));
      if (o.json) return io.out(JSON.stringify(rows, null, 2));
      for (const r of rows) io.out(`${r.name}  ${r.trigger}  ${r.steps} steps  ${r.description}`);
    });

  cmd
    .command('run')
    .description(
      'start a run and, unless --detach, serve it in this process until it ends; prints its output',
    )
    .argument('<workflow>', 'the YAML workflow')
    .option('--input <json>', "the input, checked against the workflow's input spec")
    .option('--id <id>', 'the run id (starting again with the same id returns that run)')
    .option(
      '-m, --module <path>',
      'module exporting functions (defineFlowFunction) and code workflows',
      collect,
      [],
    )
    .option('--detach', 'only start it: a `baton flows worker` serves it')
    .action(async (name: string, o: { input?: string; id?: string; module: string[]; detach?: boolean }) => {
      const input = parseJson(o.input, '--input');
      await withFlows(globals(), io, o.module, async ({ flows, store, workflows }) => {
        // Served here: a function no module gives would fail its step after the earlier ones ran.
        const problems = o.detach ? [] : flows.check(name);
        for (const p of problems) io.err(p);
        if (problems.length) throw new ExitCode(1);
        const { id, version } = await flows.start(name, input, o.id === undefined ? {} : { id: o.id });
        io.err(`run ${id} of ${name} (version ${version.slice(0, 19)})`);
        await detachOrServe({ flows, store, workflows }, id, o.detach === true, io, makeLogger(globals()));
      });
    });

  cmd
    .command('plan')
    .description(
      "a dry run: the steps a run would take and their templates' values where known; runs nothing",
    )
    .argument('<workflow>', 'the YAML workflow')
    .option('--input <json>', "the input, checked against the workflow's input spec")
    .option('--json', 'print JSON')
    .action(async (name: string, o: { input?: string; json?: boolean }) => {
      const input = parseJson(o.input, '--input');
      const config = await loadConfigFor(globals(), io);
      {
        const plan = planRun(config, name, input);
        if (o.json) return io.out(JSON.stringify(plan, null, 2));
        io.out(
          `plan of ${name} (version ${plan.version.slice(0, 19)}); ⟨…⟩ is known only when the run gets there`,
        );
        for (const s of plan.steps) {
          const mark = s.runs === 'yes' ? '✓' : s.runs === 'no' ? '✗' : '?';
          const why = s.because ? `  (${s.because})` : '';
          io.out(`${'  '.repeat(s.depth + 1)}${mark} ${s.name} [${s.type}]${why}`);
          for (const [k, v] of Object.entries(s.values)) {
            io.out(`${'  '.repeat(s.depth + 3)}${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
          }
        }
      }
    });

  cmd
    .command('runs')
    .description('the runs of a YAML workflow, newest first, with the version each runs on')
    .argument('<workflow>', 'the YAML workflow')
    .option('-l, --limit <n>', 'at most this many', '20')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { limit: string; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new BatonError('E_INVALID_OPTION', `--limit must be a positive integer, got '${o.limit}'`);
      }
      await withStore(globals(), async (store) => {
        const runs = await new Client(store).list({ kind: 'workflow', name, queue: 'flows', limit });
        const rows = runs.map((r) => ({
          id: r.id,
          status: r.status,
          version: ((r.input as { version?: string } | null)?.version ?? '').slice(0, 19),
          created_at: r.createdAt,
        }));
        if (o.json) return io.out(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return io.err(`no runs of ${name}`);
        for (const r of rows)
          io.out(`${r.id}  ${r.status.padEnd(9)}  ${r.version}  ${new Date(r.created_at).toISOString()}`);
      });
    });

  cmd
    .command('show')
    .description('one run: its version, then its history as a timeline (step ids as names)')
    .argument('<run>', 'the run id')
    .option('--json', 'print JSON (the execution with its history)')
    .action(async (run: string, o: { json?: boolean }) => {
      await withStore(globals(), async (store) => {
        const e = await new Client(store).describe(run);
        const start = e.input as { version?: unknown } | null;
        if (e.kind !== 'workflow' || typeof start?.version !== 'string') {
          throw new BatonError('E_INVALID_STATE', `execution ${run} is not a run of a YAML workflow`);
        }
        if (o.json) return io.out(JSON.stringify(e, null, 2));
        io.out(`version: ${start.version}`);
        io.out(workflowDetail(e));
      });
    });

  cmd
    .command('rerun')
    .description('a new run that reuses what a run recorded before a step, and runs live from that step')
    .argument('<run>', 'the run id')
    .requiredOption('--from <step>', 'the top-level step id to run again from')
    .option(
      '-m, --module <path>',
      'module exporting functions (defineFlowFunction) and code workflows',
      collect,
      [],
    )
    .option('--detach', 'only start it: a `baton flows worker` serves it')
    .action(async (run: string, o: { from: string; module: string[]; detach?: boolean }) => {
      await withFlows(globals(), io, o.module, async ({ flows, store, workflows }) => {
        const { id, version, reused } = await flows.rerun(run, o.from);
        io.err(
          `run ${id} reruns ${run} from ${o.from} (version ${version.slice(0, 19)}, ${reused} recorded operations reused)`,
        );
        await detachOrServe({ flows, store, workflows }, id, o.detach === true, io, makeLogger(globals()));
      });
    });

  cmd
    .command('emit')
    .description('emit an event: start every workflow whose event trigger names it and whose filter holds')
    .argument('<event>', 'the event name')
    .option('--data <json>', "the payload: the started runs' input")
    .action(async (event: string, o: { data?: string }) => {
      const data = parseJson(o.data, '--data') ?? {};
      await withFlows(globals(), io, [], async ({ flows }) => {
        const started = await flows.emit(event, data);
        if (started.length === 0) io.err(`no workflow's trigger matched event '${event}'`);
        for (const r of started) io.out(`${r.id}  ${r.workflow}`);
      });
    });

  cmd
    .command('approve')
    .description('answer the approval a run waits for at a step (a `wait` step with `approval:`)')
    .argument('<run>', 'the run id')
    .argument('<step>', 'the step id')
    .option('--deny', 'deny instead of approve')
    .option(
      '--by <name>',
      "who answers (checked against the step's approvers)",
      process.env.USER ?? 'unknown',
    )
    .option('--reason <text>', 'why')
    .action(async (run: string, step: string, o: { deny?: boolean; by: string; reason?: string }) => {
      const logger = makeLogger(globals());
      const store = await openStore(globals(), logger, false);
      try {
        await new Client(store).signal(run, `approve:${step}`, {
          approved: !o.deny,
          by: o.by,
          ...(o.reason ? { reason: o.reason } : {}),
        });
        io.err(`${o.deny ? 'denied' : 'approved'} ${step} of ${run} as ${o.by}`);
      } finally {
        await store.close();
      }
    });

  cmd
    .command('worker')
    .description("serve the YAML workflows' runs until SIGINT/SIGTERM")
    .option(
      '-m, --module <path>',
      'module exporting functions (defineFlowFunction) and code workflows',
      collect,
      [],
    )
    .option('-c, --concurrency <n>', 'runs handled at once', '20')
    .action(async (o: { module: string[]; concurrency: string }) => {
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `--concurrency must be a positive integer, got '${o.concurrency}'`,
        );
      }
      const stopped = untilSignal();
      await withFlows(globals(), io, o.module, async ({ flows, store, workflows, watch }) => {
        const served = () => ({
          workflows: [...flows.definitions, ...workflows],
          jobs: [...flows.jobs],
          schedules: [...flows.schedules],
          queues: flows.queues(),
        });
        const worker = new Worker(store, { ...served(), concurrency, logger: makeLogger(globals()) });
        await worker.start();
        io.err(`serving ${flows.names().length} YAML workflows on ${store.location}; stop with Ctrl+C`);
        // An edit of the configuration that adds workflows, triggers or queues is served at once.
        const unwatch = watch(async () => {
          await worker.serve(served());
          io.err(`configuration reloaded: serving ${flows.names().length} YAML workflows`);
        });
        const sig = await stopped;
        unwatch();
        io.err(`${sig}: stopping`);
        await worker.stop({ deadline: 10_000 });
      });
    });

  return cmd;
}
