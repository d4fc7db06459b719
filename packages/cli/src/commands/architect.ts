// `baton architect`: runs the Architect's control plane until SIGINT/SIGTERM.
import { Command } from 'commander';
import { BatonError, toMs } from '@baton/core';
import { createFlows, startControlPlane } from '@baton/flows';
import { makeLogger, type GlobalOptions, type Io } from '../context.js';
import { withArchitect } from './architect-context.js';
import { untilSignal } from './worker.js';

export function architectCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('architect')
    .description(
      'run the Architect: task workflows, the dispatcher, session health checks and the SLA monitor (until SIGINT/SIGTERM)',
    )
    .option('-c, --concurrency <n>', 'task workflows handled at once', '50')
    .option('--sla-interval <duration>', 'how often the SLA monitor looks at open tasks', '15s')
    .option(
      '--lease <duration>',
      'an architect silent this long is dead and another takes over its task workflows',
      '30s',
    )
    .action(async (o: { concurrency: string; slaInterval: string; lease: string }) => {
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new BatonError(
          'E_INVALID_OPTION',
          `--concurrency must be a positive integer, got '${o.concurrency}'`,
        );
      const slaIntervalMs = toMs(o.slaInterval, '--sla-interval');
      const stopped = untilSignal();
      await withArchitect(
        globals(),
        io,
        async ({ architect, store, config }) => {
          // Task outcomes and SLA alerts start the YAML workflows whose event triggers name them.
          const flows = config.value.workflows
            ? await createFlows({ store, config: () => config, architect, logger: makeLogger(globals()) })
            : undefined;
          const plane = await startControlPlane(store, architect, {
            concurrency,
            slaIntervalMs,
            lease: o.lease,
          });
          io.out(
            `architect running on ${store.location} (rules from the configuration, reloaded on change); stop with Ctrl+C`,
          );
          const sig = await stopped;
          io.out(`${sig}: stopping`);
          await plane.stop();
          await flows?.close();
        },
        { serve: true },
      );
    });
}
