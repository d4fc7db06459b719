// Opens the Architect for a command: the configuration (routing_rules.yaml, sla_rules.yaml), the
// store, and the Architect's tables.
import type { Store } from '@baton/core';
import { createArchitect, rulesFromConfig, type Architect, type Config } from '@baton/flows';
import { makeLogger, openStore, type GlobalOptions, type Io } from '../context.js';
import { loadConfigFor } from './config.js';

export interface OpenedArchitect {
  architect: Architect;
  store: Store;
  config: Config;
}

/**
 * Runs `fn` with the Architect. `serve` keeps the embedded store open for other processes (a
 * long-running command). The engine's and the Architect's migrations run first: both are safe to
 * run from many processes at once.
 */
export async function withArchitect<T>(
  g: GlobalOptions,
  io: Io,
  fn: (opened: OpenedArchitect) => Promise<T>,
  options: { serve?: boolean } = {},
): Promise<T> {
  const config = await loadConfigFor(g, io);
  let rules = rulesFromConfig(config);
  const logger = makeLogger(g);
  const store = await openStore(g, logger, options.serve ?? false);
  try {
    await store.migrate();
    const architect = await createArchitect({ store, rules: () => rules, logger });
    const watcher = options.serve
      ? config.watch((change) => {
          if (change.config) rules = rulesFromConfig(change.config);
        })
      : undefined;
    try {
      return await fn({ architect, store, config });
    } finally {
      watcher?.close();
    }
  } finally {
    await store.close();
  }
}
