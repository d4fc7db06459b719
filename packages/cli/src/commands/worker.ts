import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { loadConfig } from '@baton/flows';
import { BatonError, Worker, WorkerMetrics, type Store } from '@baton/core';
import { serveMetrics, type MetricsServer } from '../metrics-server.js';
import { loadUserModules, type LoadedModule } from '../load-module.js';
import { makeLogger, openStore, type GlobalOptions, type Io } from '../context.js';
import { configDir } from './config.js';

export interface WorkerFlags {
  metricsPort?: string;
  metricsHost?: string;
  queues?: string;
  concurrency?: string;
  prefetch?: string;
  lease?: string;
  poll?: string;
  shutdownDeadline?: string;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new BatonError('E_INVALID_OPTION', `${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

/** Refuses modules that give a worker nothing to run (checked before the store is opened). */
export function requireDefinitions(mod: LoadedModule): void {
  if (mod.jobs.length === 0 && mod.workflows.length === 0) {
    throw new BatonError(
      'E_CONFIG_INVALID',
      `no jobs or workflows found in ${mod.path}: export the values returned by defineJob() or defineWorkflow()`,
    );
  }
}

/** Builds a Worker from a loaded module and the worker flags shared by `worker` and `dev`. */
export function workerFrom(store: Store, mod: LoadedModule, o: WorkerFlags, metrics?: WorkerMetrics): Worker {
  requireDefinitions(mod);
  return new Worker(store, {
    metrics,
    jobs: mod.jobs,
    workflows: mod.workflows,
    schedules: mod.schedules,
    queues: o.queues
      ? o.queues
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean)
      : undefined,
    concurrency: positiveInt(o.concurrency, '--concurrency'),
    prefetch: positiveInt(o.prefetch, '--prefetch'),
    lease: o.lease,
    pollInterval: o.poll,
    shutdownDeadline: o.shutdownDeadline,
  });
}

export function addWorkerFlags(cmd: Command): Command {
  return cmd
    .option(
      '-q, --queues <list>',
      'comma-separated queues to serve (default: the queues of the module’s jobs and workflows)',
    )
    .option('-c, --concurrency <n>', 'handlers running at once', '10')
    .option('--prefetch <n>', 'jobs claimed ahead and held locally (default: concurrency)')
    .option('--lease <duration>', 'a worker silent for this long is dead and its jobs are retaken', '30s')
    .option('--poll <duration>', 'poll interval when NOTIFY is silent', '1s')
    .option('--shutdown-deadline <duration>', 'on SIGTERM/SIGINT, wait this long for running jobs', '30s');
}

/** What a worker on `mod` runs, for one line of output: `jobs: a, b; workflows: c`. */
export function describeDefinitions(mod: LoadedModule): string {
  const parts: string[] = [];
  if (mod.jobs.length) parts.push(`jobs: ${mod.jobs.map((j) => j.name).join(', ')}`);
  if (mod.workflows.length) parts.push(`workflows: ${mod.workflows.map((w) => w.name).join(', ')}`);
  if (mod.schedules.length)
    parts.push(`schedules: ${mod.schedules.map((s) => `${s.name} (${s.cron})`).join(', ')}`);
  return parts.join('; ');
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function workerCommand(globals: () => GlobalOptions, io: Io): Command {
  return addWorkerFlags(
    new Command('worker')
      .description(
        'run the jobs and workflows defined in one or more modules until SIGINT/SIGTERM, then shut down gracefully',
      )
      .argument(
        '<module...>',
        'JavaScript or TypeScript module(s) exporting jobs (defineJob), workflows (defineWorkflow) and schedules (defineSchedule)',
      )
      .option(
        '--metrics-port <port>',
        'serve Prometheus metrics on GET /metrics at this port (0: any free port)',
      )
      .option(
        '--metrics-host <host>',
        'address the metrics are served on (loopback unless you say otherwise)',
        '127.0.0.1',
      ),
  ).action(async (modules: string[], o: WorkerFlags) => {
    // Listening first: a SIGTERM that comes while the worker starts (a deploy right after a start)
    // then stops it gracefully once started, instead of killing it by the default action.
    const stopSignal = untilSignal();
    const mod = await loadUserModules(modules);
    requireDefinitions(mod);
    const logger = makeLogger({ logLevel: 'info', ...globals() });
    const configHash = await configHashFor(globals(), io);
    // A worker that went through another process holding .baton/ cannot take the store over
    // when that process exits: it says so and exits, and started again it opens the store itself.
    const store = await openStore(
      globals(),
      logger,
      true,
      () => {
        io.err(
          'error [E_DATABASE_UNAVAILABLE]: the process that held the embedded store exited; start `baton worker` again to open the store itself',
        );
        process.exit(1);
      },
      configHash,
    );
    let served: MetricsServer | undefined;
    try {
      const metrics = o.metricsPort === undefined ? undefined : new WorkerMetrics(store.driver);
      // The port first: a port taken is refused before the worker claims anything.
      if (metrics) {
        const port = o.metricsPort === '0' ? 0 : positiveInt(o.metricsPort, '--metrics-port')!;
        served = await serveMetrics(metrics, o.metricsHost ?? '127.0.0.1', port);
        io.err(`metrics at ${served.url}`);
      }
      const worker = workerFrom(store, mod, o, metrics);
      await worker.start();
      io.err(`worker ${worker.id} on ${store.location} running ${describeDefinitions(mod)}; Ctrl-C to stop`);
      const sig = await stopSignal;
      io.err(`${sig}: finishing running jobs…`);
      await worker.stop();
    } finally {
      await served?.close();
      await store.close();
    }
  });
}

/**
 * The hash of the project's configuration, for the run manifests of what this worker runs
 * (docs/ledger.md); none when there is no configuration directory. An invalid one is reported and
 * left out: a worker whose jobs do not read it should still run.
 */
async function configHashFor(g: GlobalOptions, io: Io): Promise<string | undefined> {
  const dir = configDir(g);
  if (!existsSync(dir)) return undefined;
  try {
    return (await loadConfig(dir)).hash;
  } catch (err) {
    io.err(
      `warning: the configuration in ${dir} does not load (${(err as Error).message.split('\n')[0]}); run manifests will record no configuration hash (\`baton config validate\` lists the errors)`,
    );
    return undefined;
  }
}
