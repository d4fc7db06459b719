// GET /api/ui: how the dashboard looks, from ui_config.yaml (panels, colours, tables), each part
// falling back to the seed's defaults, so a server without the file still answers.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { uiConfigWithDefaults, type UiConfig } from '@baton/flows';
import type { ServerEnv } from '../auth.js';
import type { ServerConfig } from '../config-state.js';
import { apiRoute, jsonReply } from '../route.js';

const ui = apiRoute('viewer', {
  method: 'get',
  path: '/api/ui',
  summary: "The dashboard's settings: ui_config.yaml over the seed's defaults",
  responses: {
    200: jsonReply(
      z
        .record(z.string(), z.unknown())
        .openapi('UiConfig', { description: 'theme.colors, dashboard_panels, table_configs' }),
      'The settings in force',
    ),
  },
});

export function uiRoute(app: OpenAPIHono<ServerEnv>, config: ServerConfig | undefined): void {
  app.openapi(ui, (c) =>
    c.json(uiConfigWithDefaults(config?.current.get('ui_config') as UiConfig | undefined), 200),
  );
}
