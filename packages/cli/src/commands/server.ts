// `baton server`: the HTTP API on a store; `baton keys`: the API keys it accepts.
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { BatonError } from '@baton/core';
// The server is loaded by the commands that run it: every other `baton` command starts faster.
import type { ApiKeys, JwtOptions } from '@baton/server';
import { DEFAULT_PORT, DEFAULT_RATE_LIMIT } from '@baton/server/defaults';
import { table } from '../format.js';
import { makeLogger, openStore, withStore, type GlobalOptions, type Io } from '../context.js';
import { parseIntOption } from './options.js';
import { configDir, reportingConfigErrors } from './config.js';
import { untilSignal } from './worker.js';

interface ServerFlags {
  port: string;
  host: string;
  rateLimit: string;
  jwtSecretEnv?: string;
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtRoleClaim: string;
  corsOrigin?: string;
}

/**
 * The configuration directory a server serves: the one named (--config-dir, BATON_CONFIG_DIR), which
 * must exist, else ./baton when there is one, else none.
 */
function serverConfigDir(g: GlobalOptions): string | undefined {
  const dir = configDir(g);
  if (existsSync(dir)) return dir;
  if (g.configDir ?? process.env.BATON_CONFIG_DIR)
    throw new BatonError('E_INVALID_OPTION', `the configuration directory ${dir} does not exist`);
  return undefined;
}

function jwtOptions(o: ServerFlags): JwtOptions | undefined {
  if (o.jwtSecretEnv === undefined && o.jwksUrl === undefined) {
    if (o.jwtIssuer !== undefined || o.jwtAudience !== undefined)
      throw new BatonError(
        'E_INVALID_OPTION',
        '--jwt-issuer and --jwt-audience need --jwt-secret-env or --jwks-url',
      );
    return undefined;
  }
  let secret: string | undefined;
  if (o.jwtSecretEnv !== undefined) {
    secret = process.env[o.jwtSecretEnv];
    if (!secret)
      throw new BatonError(
        'E_INVALID_OPTION',
        `--jwt-secret-env names ${o.jwtSecretEnv}, which is not set in the environment`,
      );
  }
  return {
    secret,
    jwksUrl: o.jwksUrl,
    issuer: o.jwtIssuer,
    audience: o.jwtAudience,
    roleClaim: o.jwtRoleClaim,
  };
}

export function serverCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('server')
    .description(
      'serve the HTTP API (docs/server.md); on 127.0.0.1 unless --host names another address, which needs an API key to exist',
    )
    .option('--port <n>', `port (0 picks a free one)`, String(DEFAULT_PORT))
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--rate-limit <n>',
      `calls per second per API key (or per address without one), bursts of twice that; 0: no limit`,
      String(DEFAULT_RATE_LIMIT.perSecond),
    )
    .option(
      '--jwt-secret-env <VAR>',
      'accept HS256 JWTs signed with the secret in this environment variable (never on the command line)',
    )
    .option(
      '--jwks-url <url>',
      "accept RS256/ES256 JWTs signed by a key of this JWKS (the identity provider's)",
    )
    .option(
      '--cors-origin <origins>',
      'comma-separated origins whose pages may call the API (https://app.example, or *); default none',
    )
    .option('--jwt-issuer <iss>', 'a JWT must name this issuer')
    .option('--jwt-audience <aud>', 'a JWT must name this audience')
    .option('--jwt-role-claim <claim>', 'the JWT claim that holds the role', 'role')
    .action(async (o: ServerFlags) => {
      const jwt = jwtOptions(o);
      const port = parseIntOption(o.port, '--port')!;
      const perSecond = parseIntOption(o.rateLimit, '--rate-limit')!;
      if (perSecond < 0)
        throw new BatonError('E_INVALID_OPTION', `--rate-limit must be 0 or more, got ${perSecond}`);
      const g = globals();
      // Request logs are info lines: shown unless --log-level says otherwise.
      const logger = makeLogger({ logLevel: 'info', ...g });
      const { startServer } = await import('@baton/server');
      const store = await openStore(g, logger);
      try {
        // An invalid configuration prints every error, one per line, as `baton config validate` does.
        const server = await reportingConfigErrors(io, () =>
          startServer({
            store,
            logger,
            host: o.host,
            port,
            rateLimit: perSecond === 0 ? null : { perSecond },
            corsOrigins: o.corsOrigin?.split(',').map((x) => x.trim()),
            configDir: serverConfigDir(g),
            jwt,
          }),
        );
        io.out(`Baton API on ${server.url}  (OpenAPI: ${server.url}/openapi.json)`);
        io.out(
          server.dashboard ? `dashboard: ${server.dashboard}` : 'dashboard: not built (`npm run build`)',
        );
        io.out(
          server.auth === 'required'
            ? `every call needs an API key${jwt ? ' or a bearer JWT' : ''}`
            : 'local only; calls need an API key once one exists (`baton keys create --role viewer`)',
        );
        await untilSignal();
        await server.close();
      } finally {
        await store.close();
      }
    });
}

export function keysCommand(globals: () => GlobalOptions, io: Io): Command {
  const withKeys = <T>(fn: (keys: ApiKeys) => Promise<T>) =>
    withStore(globals(), async (store) => {
      const { ApiKeys, migrateServer } = await import('@baton/server');
      await migrateServer(store.driver);
      return fn(new ApiKeys(store.driver));
    });
  const keys = new Command('keys').description('API keys of the HTTP API (stored as hashes only)');
  keys
    .command('create')
    .description('create a key and print it: it is shown this once')
    .requiredOption(
      '--role <role>',
      'viewer (reads), operator (also starts, cancels, retries, signals) or admin (also keys)',
    )
    .option('--name <name>', 'what the key is for', '')
    .action(async (o: { role: string; name: string }) => {
      const made = await withKeys((k) => k.create(o.role, o.name));
      io.out(made.key);
      io.err(`key ${made.info.id} (${made.info.role}) created; it is not shown again`);
    });
  keys
    .command('list')
    .description('every key: id, name, role, created, last used, revoked')
    .action(async () => {
      const list = await withKeys((k) => k.list());
      io.out(
        list.length === 0
          ? 'no API keys: the server accepts local calls without one'
          : table(
              ['id', 'name', 'role', 'created', 'last used', 'revoked'],
              list.map((k) => [
                k.id,
                k.name,
                k.role,
                k.createdAt.toISOString(),
                k.lastUsedAt?.toISOString() ?? '',
                k.revokedAt?.toISOString() ?? '',
              ]),
            ),
      );
    });
  keys
    .command('revoke')
    .description('revoke a key; servers refuse it within 2 seconds')
    .argument('<id>', 'the id `baton keys list` shows')
    .action(async (id: string) => {
      const k = await withKeys((keys) => keys.revoke(id));
      io.out(`revoked ${k.id} (${k.role})`);
    });
  return keys;
}
