import { Command } from 'commander';
import { Client } from '@baton/core';
import { loadUserModules } from '../load-module.js';
import { executionTable } from '../format.js';
import { openStore, makeLogger, type GlobalOptions, type Io } from '../context.js';
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
        'embedded development run: migrate the PGlite store in .baton/, start a worker on the modules, and run the demo() each exports, if any',
      )
      .argument(
        '<module...>',
        'module(s) exporting jobs, workflows, schedules, and optionally demo(client, print)',
      )
      .option('--keep', 'keep the worker running after the demo'),
  ).action(async (modules: string[], o: WorkerFlags & { keep?: boolean }) => {
    const mod = await loadUserModules(modules);
    requireDefinitions(mod);
    // Expected failures in the demo show in its table; only unexpected errors are logged.
    const store = await openStore(globals(), makeLogger({ logLevel: 'error', ...globals() }));
    try {
      const applied = await store.migrate();
      io.out(
        `store: ${store.location}${applied.length ? ` (applied migrations ${applied.join(', ')})` : ''}`,
      );
      const worker = workerFrom(store, mod, { concurrency: '4', ...o });
      await worker.start();
      io.out(`worker: ${describeDefinitions(mod)}`);
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
        io.out('worker running; Ctrl-C to stop');
        await untilSignal();
      }
      await worker.stop({ deadline: '5s' });
    } finally {
      await store.close();
    }
  });
}
