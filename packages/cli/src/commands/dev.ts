import { Command } from 'commander';
import { Client } from '@baton/core';
import { DEFAULT_PORT } from '@baton/server/defaults';
import { loadUserModules } from '../load-module.js';
import { executionTable } from '../format.js';
import { openStore, makeLogger, type GlobalOptions, type Io } from '../context.js';
import { parseIntOption } from './options.js';
import {
  addWorkerFlags,
  describeDefinitions,
  requireDefinitions,
  untilSignal,
  workerFrom,
  type WorkerFlags,
} from './worker.js';

/** The optional entry a dev module exports: enqueue some work and return the ids to report on. */
export type DemoFn = (client: Client, print: (line: string) => void) => Promise<string[]>;

export function devCommand(globals: () => GlobalOptions, io: Io): Command {
  return addWorkerFlags(
    new Command('dev')
      .description(
        'embedded development run: migrate the PGlite store in .baton/, start a worker on the modules and run the demo() each exports, if any; while it keeps running, serve the API and the dashboard',
      )
      .argument(
        '[module...]',
        'module(s) exporting jobs, workflows, schedules, and optionally demo(client, print); none: only the dashboard',
      )
      .option('--keep', 'keep running after the demo')
      .option('--port <n>', 'port of the API and dashboard (0 picks a free one)', String(DEFAULT_PORT))
      .option('--no-server', 'do not serve the API and dashboard'),
  ).action(async (modules: string[], o: WorkerFlags & { keep?: boolean; port: string; server: boolean }) => {
    const port = parseIntOption(o.port, '--port')!;
    const mod = await loadUserModules(modules);
    if (modules.length) requireDefinitions(mod);
    // Expected failures in the demo show in its table; only unexpected errors are logged.
    const store = await openStore(globals(), makeLogger({ logLevel: 'error', ...globals() }));
    try {
      const applied = await store.migrate();
      io.out(
        `store: ${store.location}${applied.length ? ` (applied migrations ${applied.join(', ')})` : ''}`,
      );
      const worker = modules.length ? workerFrom(store, mod, { concurrency: '4', ...o }) : undefined;
      await worker?.start();
      if (worker) io.out(`worker: ${describeDefinitions(mod)}`);
      const demos = mod.demos.filter((d): d is DemoFn => typeof d === 'function');
      if (demos.length) {
        const client = new Client(store, mod.jobs);
        const ids: string[] = [];
        // One after the other, so that each demo's lines stay together.
        for (const demo of demos) ids.push(...(await demo(client, (line) => io.out(line))));
        const finished = await Promise.all(ids.map((id) => client.waitFor(id, { timeout: '2m' })));
        if (finished.length) {
          io.out('');
          io.out(executionTable(finished));
          io.out('');
          const kinds = new Set(finished.map((e) => (e.kind === 'workflow' ? 'workflows' : 'jobs')));
          io.out(
            `Inspect one with: ${[...kinds].map((k) => `npx --no-install baton ${k} show <id>`).join(' or ')}   (data in ${store.location})`,
          );
        }
      }
      if (o.keep || demos.length === 0) {
        // The process holding the store serves everyone: the dashboard, and other `baton` commands.
        const server = o.server
          ? await (
              await import('@baton/server')
            ).startServer({ store, logger: makeLogger({ logLevel: 'error', ...globals() }), port })
          : undefined;
        if (server)
          io.out(
            `dashboard: ${server.dashboard ?? 'not built (`npm run build`)'}   (API: ${server.url}/openapi.json)`,
          );
        io.out(`${worker ? 'worker running' : 'running'}; Ctrl-C to stop`);
        await untilSignal();
        await server?.close();
      }
      await worker?.stop({ deadline: '5s' });
    } finally {
      await store.close();
    }
  });
}
