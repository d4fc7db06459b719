// The HTTP application: request ids and logs, a body cap, authentication under /api, the routes,
// health, the OpenAPI document, and one error format for everything that goes wrong.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { BatonError, Client, type Logger, type Store } from '@baton/core';
import { authenticate, type AuthMode, type ServerEnv } from './auth.js';
import { errorReply } from './http-errors.js';
import type { ApiKeys } from './keys.js';
import type { JwtVerifier } from './jwt.js';
import { executionRoutes } from './routes/executions.js';
import { engineRoutes } from './routes/engine.js';
import { keyRoutes } from './routes/keys.js';
import { healthRoutes } from './routes/health.js';
import { eventRoutes } from './routes/events.js';
import { meRoute } from './routes/me.js';
import { queryRoutes } from './routes/queries.js';
import { configRoutes } from './routes/config.js';
import { architectRoutes } from './routes/architect.js';
import { flowRoutes } from './routes/flows.js';
import { uiRoute } from './routes/ui.js';
import { aiRoutes } from './routes/ai.js';
import type { Architect, Flows } from '@baton/flows';
import type { ServerConfig } from './config-state.js';
import { dashboardDir, dashboardRoutes } from './dashboard.js';
import type { EventHub } from './event-hub.js';
import { metricsRoute } from './routes/metrics.js';
import { HttpMetrics } from './metrics.js';
import { corsFor } from './cors.js';
import { browserGuard } from './browser-guard.js';
import { rateLimit, TokenBuckets, type RateLimit } from './rate-limit.js';

export interface AppOptions {
  store: Store;
  keys: ApiKeys;
  auth: AuthMode;
  logger: Logger;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Accept bearer JWTs too, verified by this. */
  jwt?: JwtVerifier;
  /** Calls per caller (an API key, or an address without one); absent: no limit. */
  rateLimit?: RateLimit;
  /** The live change feed behind GET /api/events. */
  events: EventHub;
  /** How often an idle event stream gets a keep-alive line and its key is checked again (default 15 s). */
  keepAliveMs?: number;
  /** The configuration and named queries it serves; absent: those routes answer 404 and say why. */
  config?: ServerConfig;
  /** The Architect whose tasks, sessions and SLA it serves; absent: those routes answer 404. */
  architect?: Architect;
  /** The YAML workflows it starts runs of (and whose api triggers it serves); absent: 404. */
  flows?: Flows;
  /** Whether the server listens on loopback only (then it answers only requests addressed to it). Default true. */
  loopback?: boolean;
  /** Origins whose pages may call the API (checked with checkOrigins); absent or empty: none. */
  corsOrigins?: readonly string[];
  /** Where the built dashboard is (default: @baton/dashboard's dist); '' serves none. */
  dashboardDir?: string;
  /** The version the OpenAPI document states. */
  version?: string;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

const tooLarge = (max: number) =>
  new BatonError(
    'E_INPUT_INVALID',
    `the request body is larger than ${max} bytes; send less, or raise the server's body limit`,
  );

/** How a zod issue list reads in one line: `path: message; …`. */
function issuesText(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}

export function createApp(options: AppOptions): OpenAPIHono<ServerEnv> {
  const { store, keys, auth, logger } = options;
  const client = new Client(store);
  const app = new OpenAPIHono<ServerEnv>({
    // Validation failures answer in the API's error format, naming each bad field.
    defaultHook: (result) => {
      if (!result.success)
        throw new BatonError(
          'E_INPUT_INVALID',
          `the ${result.target} is not valid: ${issuesText(result.error.issues)}`,
          {
            details: {
              target: result.target,
              issues: result.error.issues.map((i) => ({ path: i.path, message: i.message })),
            },
          },
        );
    },
  });

  const { architect, config } = options;
  const metrics = new HttpMetrics(
    store.driver,
    architect && config?.current.get('sla_rules') !== undefined ? () => architect.slaReport() : undefined,
  );
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;

  // A request id (the caller's X-Request-Id when it is sane), one log line and the metrics of each
  // request, refusals included. The route is its pattern, not the URL, and never a header: keys
  // stay out of logs, and the metrics' series stay bounded.
  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    const t0 = performance.now();
    await next();
    const ms = performance.now() - t0;
    const { method, routePath: route } = c.req;
    const { status } = c.res;
    metrics.observe(method, route, status, ms / 1000);
    logger.info({ requestId, method, route, status, ms: Math.round(ms * 100) / 100 }, 'request');
  });

  app.use('*', browserGuard({ loopback: options.loopback ?? true, corsOrigins: options.corsOrigins ?? [] }));

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    // 413, and the connection closed: the rest of the body is not read.
    onError: (c) => {
      c.header('Connection', 'close');
      return c.json(errorReply(tooLarge(maxBodyBytes)).body, 413);
    },
  });
  // GET and HEAD take no body; asking for one would make the Node adapter build a whole Request
  // per call (a tenth of a read's CPU).
  app.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next),
  );
  // Before authentication: a browser's preflight carries no key.
  if (options.corsOrigins?.length) {
    app.use('/api/*', corsFor(options.corsOrigins));
    app.use('/openapi.json', corsFor(options.corsOrigins));
  }
  app.use('/api/*', authenticate(auth, keys, options.jwt));
  app.use('/metrics', authenticate(auth, keys, options.jwt));
  if (options.rateLimit) app.use('/api/*', rateLimit(new TokenBuckets(options.rateLimit)));

  healthRoutes(app, store);
  metricsRoute(app, metrics);
  executionRoutes(app, client);
  engineRoutes(app, store, client);
  keyRoutes(app, keys);
  eventRoutes(app, options.events, options.keepAliveMs);
  meRoute(app);
  queryRoutes(app, options.config);
  configRoutes(app, options.config);
  architectRoutes(app, options.architect);
  const triggers = flowRoutes(app, options.flows, options.config && (() => options.config!.current), client);
  uiRoute(app, options.config);
  aiRoutes(app, store);
  dashboardRoutes(
    app,
    options.dashboardDir === undefined ? dashboardDir() : options.dashboardDir || undefined,
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key: bk_…',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Baton API',
      version: options.version ?? '0.1.0',
      description:
        'Executions, queues, workers, schedules, API keys, health and metrics of a Baton store. Every route under /api needs an API key (or a bearer JWT, when the server takes them) once the server requires credentials; `x-baton-role` names the least role a route needs.',
    },
    security: [{ apiKey: [] }],
  });

  app.notFound(async (c) => {
    const started = await triggers?.(c);
    if (started) return started;
    throw new BatonError('E_NOT_FOUND', 'no such route; GET /openapi.json lists them');
  });

  app.onError((err, c) => {
    // A body that is not JSON reaches here from the validator as a plain error.
    const known =
      err instanceof SyntaxError || /malformed JSON/i.test(err.message)
        ? new BatonError('E_INPUT_INVALID', 'the request body is not valid JSON')
        : err;
    const { status, body, internal } = errorReply(known);
    if (internal) logger.error({ requestId: c.get('requestId'), err }, 'request failed');
    return c.json(body, status as 500);
  });

  return app;
}
