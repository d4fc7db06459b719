// An Architect on a fresh store (PGlite, or PostgreSQL when BATON_PG_URL is set), with the fixture's
// rules (optionally changed) and a clock the test moves.
import { Store } from '@baton/core';
import { freshDatabase, quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import type { RoutingRules } from '../src/config/kinds/routing-rules.js';
import type { SlaRules } from '../src/config/kinds/sla-rules.js';
import { createArchitect, type Architect } from '../src/architect/architect.js';
import type { ArchitectRules } from '../src/architect/context.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from './config-helpers.js';

export const PG_URL = process.env.BATON_PG_URL;

let fixture: ArchitectRules | undefined;

/** The fixture's routing_rules.yaml and sla_rules.yaml, as loaded. */
export async function fixtureRules(): Promise<ArchitectRules> {
  if (!fixture) {
    const config = await loadConfig(EXAMPLE_CONFIG, { env: FIXTURE_ENV });
    fixture = {
      routing: config.get('routing_rules') as RoutingRules,
      sla: config.get('sla_rules') as SlaRules,
    };
  }
  return structuredClone(fixture);
}

export interface TestArchitect {
  architect: Architect;
  store: Store;
  rules: ArchitectRules;
  /** The test's clock, ms since the epoch; move it with `clock.t += …`. */
  clock: { t: number };
  close(): Promise<void>;
}

export async function openArchitect(
  backend: 'pglite' | 'postgres',
  change: (rules: ArchitectRules) => void = () => {},
  options: { url?: string; realClock?: boolean } = {},
): Promise<TestArchitect> {
  const url = backend === 'postgres' ? (options.url ?? (await freshDatabase())) : undefined;
  const store = await Store.open(
    url ? { databaseUrl: url, logger: quietLogger() } : { dataDir: 'memory://', logger: quietLogger() },
  );
  await store.migrate();
  const rules = await fixtureRules();
  change(rules);
  const clock = { t: Date.UTC(2026, 11, 2, 9, 0, 0) };
  const architect = await createArchitect({
    store,
    rules: () => rules,
    now: options.realClock ? Date.now : () => clock.t,
    logger: quietLogger(),
  });
  return { architect, store, rules, clock, close: () => store.close() };
}

/** The backends to run on: PGlite always, PostgreSQL when BATON_PG_URL is set. */
export function architectBackends(): ('pglite' | 'postgres')[] {
  return PG_URL ? ['pglite', 'postgres'] : ['pglite'];
}
