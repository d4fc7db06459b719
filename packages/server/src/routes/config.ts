// The configuration the server runs under (admins only): show it with secrets masked, explain where
// each value came from, validate the directory as it is on disk, and reload it. File names in
// replies are relative to the configuration directory.
import { relative } from 'node:path';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { ConfigError, type Config, type ConfigDiagnostic } from '@baton/flows';
import type { ServerEnv } from '../auth.js';
import type { ServerConfig } from '../config-state.js';
import { apiRoute, jsonReply } from '../route.js';
import { noConfig } from './queries.js';

const Location = z.object({ file: z.string(), line: z.number(), col: z.number() });
const Diagnostic = Location.extend({
  severity: z.enum(['error', 'warning']),
  path: z.string(),
  message: z.string(),
}).openapi('ConfigDiagnostic');

const Summary = z.object({
  environment: z.string(),
  hash: z.string(),
  files: z.array(z.string()),
  warnings: z.array(Diagnostic),
});

const PathQuery = z.object({
  path: z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: 'a key path, kind first: routing_rules.environment_routing.bug_fix' }),
});

const show = apiRoute('admin', {
  method: 'get',
  path: '/api/config',
  summary: 'The configuration in force (secrets masked), or the value at a path',
  request: { query: PathQuery },
  responses: { 200: jsonReply(Summary.extend({ value: z.unknown() }), 'The configuration') },
});

const explain = apiRoute('admin', {
  method: 'get',
  path: '/api/config/explain',
  summary: 'Where each value at or below a path was set, and what it overrode',
  request: { query: PathQuery },
  responses: {
    200: jsonReply(
      z.object({
        items: z.array(
          z.object({
            path: z.string(),
            value: z.unknown(),
            setBy: Location,
            env: z.unknown().optional(),
            overrode: z.array(z.object({ value: z.unknown(), setBy: Location })),
          }),
        ),
      }),
      'One entry per value',
    ),
  },
});

const validate = apiRoute('admin', {
  method: 'post',
  path: '/api/config/validate',
  summary: 'Check the configuration directory as it is on disk, without applying it',
  responses: {
    200: jsonReply(Summary.extend({ valid: z.literal(true) }), 'Valid (warnings listed)'),
    422: jsonReply(
      z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }) }),
      'Not valid: E_CONFIG_INVALID, every problem in details.diagnostics with file:line:col',
    ),
  },
});

const reload = apiRoute('admin', {
  method: 'post',
  path: '/api/config/reload',
  summary: 'Apply the configuration directory as it is on disk; a bad one is refused and the current stays',
  responses: {
    200: jsonReply(Summary.extend({ changed: z.boolean() }), 'Applied'),
    422: jsonReply(
      z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }) }),
      'Not valid: nothing changed',
    ),
  },
});

export function configRoutes(app: OpenAPIHono<ServerEnv>, state: ServerConfig | undefined): void {
  const need = (): ServerConfig => {
    if (!state) throw noConfig();
    return state;
  };
  const rel = (dir: string, file: string) => relative(dir, file) || file;
  const diag = (dir: string, d: ConfigDiagnostic) => ({
    severity: d.severity,
    path: d.path,
    message: d.message,
    file: rel(dir, d.file),
    line: d.line,
    col: d.col,
  });
  const summary = (c: Config) => ({
    environment: c.environment,
    hash: c.hash,
    files: c.files.map((f) => rel(c.dir, f)),
    warnings: c.warnings.map((d) => diag(c.dir, d)),
  });
  // A ConfigError's diagnostics with paths relative to the directory, as every reply has them.
  const relativeError = (dir: string, err: unknown) =>
    err instanceof ConfigError
      ? new ConfigError(err.diagnostics.map((d) => ({ ...d, ...diag(dir, d) })))
      : err;

  app.openapi(show, (c) => {
    const config = need().current;
    const { path } = c.req.valid('query');
    return c.json({ ...summary(config), value: config.masked(path) }, 200);
  });

  app.openapi(explain, (c) => {
    const config = need().current;
    const items = config.explain(c.req.valid('query').path).map((e) => ({
      ...e,
      setBy: { ...e.setBy, file: rel(config.dir, e.setBy.file) },
      overrode: e.overrode.map((o) => ({ ...o, setBy: { ...o.setBy, file: rel(config.dir, o.setBy.file) } })),
    }));
    return c.json({ items }, 200);
  });

  app.openapi(validate, async (c) => {
    const s = need();
    try {
      return c.json({ valid: true as const, ...summary(await s.check()) }, 200);
    } catch (err) {
      throw relativeError(s.current.dir, err);
    }
  });

  app.openapi(reload, async (c) => {
    const s = need();
    const before = s.current.hash;
    try {
      const config = await s.reload();
      return c.json({ changed: config.hash !== before, ...summary(config) }, 200);
    } catch (err) {
      throw relativeError(s.current.dir, err);
    }
  });
}
