// An Ai over a fresh in-memory store and the real llm_providers.yaml / llm_failover_policy.yaml,
// with chosen providers pointed at loopback servers.
import { Store } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../../flows/src/config/load.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from '../../flows/test/config-helpers.js';
import { Ai, type AiConfig, type AlertSink } from '../src/index.js';

let fixture: AiConfig | undefined;

/** The example directory's llm_providers.yaml and llm_failover_policy.yaml, as loaded. */
export async function fixtureConfig(): Promise<AiConfig> {
  if (!fixture) {
    const config = await loadConfig(EXAMPLE_CONFIG, { env: FIXTURE_ENV });
    fixture = {
      llm_providers: config.get('llm_providers') as AiConfig['llm_providers'],
      llm_failover_policy: config.get('llm_failover_policy') as AiConfig['llm_failover_policy'],
    };
  }
  return structuredClone(fixture);
}

export interface TestAi {
  ai: Ai;
  store: Store;
  config: AiConfig;
  close(): Promise<void>;
}

/** An Ai on `config`, or on the fixture's config changed by `change` (point endpoints at loopback servers there). */
export async function openAi(
  change: ((c: AiConfig) => void) | AiConfig,
  options: { alerts?: AlertSink; store?: Store } = {},
): Promise<TestAi> {
  let config: AiConfig;
  if (typeof change === 'function') {
    config = await fixtureConfig();
    change(config);
  } else config = change;
  const store = options.store ?? (await Store.open({ dataDir: 'memory://', logger: quietLogger() }));
  if (!options.store) await store.migrate();
  const ai = await Ai.open(store, config, { alerts: options.alerts, logger: quietLogger() });
  return { ai, store, config, close: () => (options.store ? Promise.resolve() : store.close()) };
}
