// Opens the Architect for a command: the configuration (routing_rules.yaml, sla_rules.yaml), the
// store, and the Architect's tables.
import { BatonError, type Store } from '@baton/core';
import {
  createArchitect,
  type Architect,
  type ArchitectRules,
  type Config,
  type RoutingRules,
  type SlaRules,
} from '@baton/flows';
import { makeLogger, openStore, type GlobalOptions, type Io } from '../context.js';
import { configDir, loadConfigFor } from './config.js';

/** The Architect's rules from the configuration; E_CONFIG_INVALID when it has no routing_rules.yaml. */
export function architectRules(config: Config, dir: string): ArchitectRules {
  const routing = config.get('routing_rules') as RoutingRules | undefined;
  if (!routing)
    throw new BatonError(
      'E_CONFIG_INVALID',
      `no routing_rules.yaml in ${dir}: the Architect routes by it (see docs/architect.md; examples/architect/baton has the seed's files)`,
    );
  return { routing, sla: (config.get('sla_rules') as SlaRules | undefined) ?? {} };
}

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
  let rules = architectRules(config, configDir(g));
  const logger = makeLogger(g);
  const store = await openStore(g, logger, options.serve ?? false);
  try {
    await store.migrate();
    const architect = await createArchitect({ store, rules: () => rules, logger });
    const watcher = options.serve
      ? config.watch((change) => {
          if (change.config) rules = architectRules(change.config, configDir(g));
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
