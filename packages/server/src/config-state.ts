// The configuration a server runs under, and the named-query service built on it. A reload loads
// and validates the whole directory first and swaps only a good one in: a bad edit leaves the
// running configuration (and its queries) as they were, and the reply lists what is wrong.
import type { Logger, Store } from '@baton/core';
import { createQueryService, loadConfig, type Config, type QueryService } from '@baton/flows';

export class ServerConfig {
  /** What a new configuration must still give the parts running on this one (the Architect's rules). */
  private readonly requirements: ((config: Config) => unknown)[] = [];

  private constructor(
    private config: Config,
    readonly queries: QueryService,
  ) {}

  /** Loads `dir`; throws ConfigError (E_CONFIG_INVALID, with file:line:col) when it is not valid. */
  static async load(dir: string, store: Store, logger: Logger): Promise<ServerConfig> {
    const config = await loadConfig(dir, { logger });
    const service = await createQueryService(config, { store, logger });
    return new ServerConfig(config, service);
  }

  get current(): Config {
    return this.config;
  }

  /** Refuses, from now on, a configuration that `requirement` throws on. */
  require(requirement: (config: Config) => unknown): void {
    this.requirements.push(requirement);
  }

  /** Loads the directory again without applying it; throws what is wrong, as a reload would. */
  async check(): Promise<Config> {
    const config = await loadConfig(this.config.dir, this.config.options);
    for (const r of this.requirements) r(config);
    return config;
  }

  /** Applies the directory as it is now; the previous configuration stays when this throws. */
  async reload(): Promise<Config> {
    const config = await this.check();
    // Every query is prepared on the new datasources before the swap; runs in flight finish first.
    await this.queries.reload(config);
    this.config = config;
    return config;
  }

  async close(): Promise<void> {
    await this.queries.close();
  }
}
