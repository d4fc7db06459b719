// The dashboard's static files (packages/dashboard, built by `npm run build`): the page at `/`, its
// hashed assets under /assets, cached for good. Views are hash routes (`/#/executions`), so the
// server needs no fallback. Without a build, `/` says how to make one.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from './auth.js';

/** The built dashboard's directory, or undefined when it was not built. */
export function dashboardDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@baton/dashboard/package.json');
    const dir = join(dirname(pkg), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

// Scripts and styles from this server only; the page cannot be framed.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export function dashboardRoutes(app: OpenAPIHono<ServerEnv>, dir: string | undefined): void {
  if (!dir) {
    app.get('/', (c) =>
      c.text(
        'The dashboard is not built: run `npm run build` in the Baton checkout, then restart the server.\n',
        404,
      ),
    );
    return;
  }
  app.use(
    '/assets/*',
    serveStatic({
      root: dir,
      onFound: (_path, c) => {
        c.header('Cache-Control', 'public, max-age=31536000, immutable');
        c.header('X-Content-Type-Options', 'nosniff');
      },
    }),
  );
  app.get(
    '/',
    serveStatic({
      root: dir,
      path: 'index.html',
      onFound: (_path, c) => {
        c.header('Cache-Control', 'no-cache');
        c.header('Content-Security-Policy', CSP);
        c.header('X-Content-Type-Options', 'nosniff');
      },
    }),
  );
}
