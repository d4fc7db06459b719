// Starting the server: on loopback by default; on any other address only with auth required and a
// key to use, so that a store is never exposed without one by mistake.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { BatonError, type Logger, type Store } from '@baton/core';
import { serverChanges } from './change-source.js';
import { EventHub } from './event-hub.js';
import { dashboardDir } from './dashboard.js';
import { isLoopback } from './loopback.js';
import { checkOrigins } from './cors.js';
import { ServerConfig } from './config-state.js';
import { createArchitect, createFlows, rulesFromConfig } from '@baton/flows';
import { createApp } from './app.js';
import type { AuthMode } from './auth.js';
import { ApiKeys, migrateServer } from './keys.js';
import type { RateLimit } from './rate-limit.js';
import { JwtVerifier, type JwtOptions } from './jwt.js';
import { DEFAULT_PORT, DEFAULT_RATE_LIMIT } from './defaults.js';

export interface ServeOptions {
  store: Store;
  logger: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8154; 0 picks a free port. */
  port?: number;
  maxBodyBytes?: number;
  /** Accept bearer JWTs (HS256 secret or JWKS); the server then requires credentials on every call. */
  jwt?: JwtOptions;
  /**
   * The configuration directory whose named queries and settings the server serves (loaded now: an
   * invalid one stops the start with every error). Absent: those routes answer 404.
   */
  configDir?: string;
  /** How often an idle event stream gets a keep-alive line and its key is checked again (default 15 s). */
  keepAliveMs?: number;
  /** Origins whose pages may call the API (`https://app.example`, or `*`); default none. */
  corsOrigins?: readonly string[];
  /** Calls per second per caller (default DEFAULT_RATE_LIMIT); null: no limit. */
  rateLimit?: RateLimit | null;
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** The dashboard's URL, when it is built. */
  dashboard: string | undefined;
  auth: AuthMode;
  close(): Promise<void>;
}

export { isLoopback };

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  const corsOrigins = checkOrigins(options.corsOrigins ?? []);
  await options.store.checkSchema();
  await migrateServer(options.store.driver);
  const keys = new ApiKeys(options.store.driver);
  const jwt = options.jwt ? new JwtVerifier(options.jwt) : undefined;
  const loopback = isLoopback(host);
  if (!loopback && !jwt && !(await keys.anyActive()))
    throw new BatonError(
      'E_INVALID_OPTION',
      `refusing to listen on ${host} without authentication: anyone who can reach it could run and cancel work. Create a key first (\`baton keys create --role admin\`), configure JWTs, or listen on 127.0.0.1`,
    );
  const auth: AuthMode = loopback && !jwt ? 'auto' : 'required';
  if (corsOrigins.includes('*') && auth === 'auto' && !(await keys.anyActive()))
    throw new BatonError(
      'E_INVALID_OPTION',
      '--cors-origin * would let any website call this server, where every caller is an admin until an API key exists: create a key first (`baton keys create --role admin`), or name the origins',
    );
  const config = options.configDir
    ? await ServerConfig.load(options.configDir, options.store, options.logger)
    : undefined;
  try {
    return await serveWith(options, { host, port, corsOrigins, keys, jwt, loopback, auth, config });
  } catch (err) {
    // The query service's datasources are open: close them with the start that failed.
    await config?.close();
    throw err;
  }
}

interface Prepared {
  host: string;
  port: number;
  corsOrigins: string[];
  keys: ApiKeys;
  jwt: JwtVerifier | undefined;
  loopback: boolean;
  auth: AuthMode;
  config: ServerConfig | undefined;
}

async function serveWith(options: ServeOptions, p: Prepared): Promise<RunningServer> {
  const { host, port, corsOrigins, keys, jwt, loopback, auth, config } = p;
  // The Architect runs when the configuration has its rules, read anew after each reload.
  const architect =
    config && config.current.get('routing_rules') !== undefined
      ? await createArchitect({
          store: options.store,
          rules: () => rulesFromConfig(config.current),
          logger: options.logger,
        })
      : undefined;
  // A reload may not take its rules away from the running Architect.
  if (architect) config!.require(rulesFromConfig);
  // YAML workflows: runs started here (POST /api/flows/<name>/runs, api triggers) are served by a
  // `baton flows worker`; their functions live in its modules, not in the server.
  const flows = config?.current.value.workflows
    ? await createFlows({
        store: options.store,
        config: () => config.current,
        ...(architect ? { architect } : {}),
        query: (name, params) => config.queries.run(name, params),
        logger: options.logger,
      })
    : undefined;
  const events = new EventHub(serverChanges(options.store.driver, options.logger, architect !== undefined));
  const dashboard = dashboardDir();
  const app = createApp({
    events,
    dashboardDir: dashboard ?? '',
    corsOrigins,
    loopback,
    keepAliveMs: options.keepAliveMs,
    config,
    architect,
    ...(flows ? { flows } : {}),
    store: options.store,
    keys,
    auth,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    jwt,
    rateLimit: options.rateLimit === null ? undefined : (options.rateLimit ?? DEFAULT_RATE_LIMIT),
  });
  const server = await listen(app.fetch, host, port);
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    dashboard: dashboard ? `http://${shownHost}:${bound.port}/` : undefined,
    auth,
    close: async () => {
      try {
        await new Promise<void>((resolve, reject) => {
          // Idle keep-alive connections (and event streams) would hold close() open.
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close((err) => (err ? reject(err) : resolve()));
        });
      } finally {
        await events.close();
        await flows?.close();
        await config?.close();
      }
    },
  };
}

/** Listens on host:port; a port in use is an error that says what to do. */
function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<ServerType> {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname: host, port }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new BatonError(
              'E_INVALID_OPTION',
              `port ${port} on ${host} is in use; pick another with --port`,
              { cause: err },
            )
          : err,
      ),
    );
  });
}
