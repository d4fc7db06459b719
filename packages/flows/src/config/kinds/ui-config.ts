// The `ui_config` kind (ui_config.yaml): the dashboard's colors, panels and tables.
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** A CSS color: `#rgb`, `#rrggbb`, `#rrggbbaa`, a name (`yellow`) or `rgb(…)`/`hsl(…)`. */
const cssColor = z
  .string()
  .regex(
    /^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]+|(rgb|rgba|hsl|hsla)\([^()]*\))$/,
    'a CSS color such as #ffc107, yellow or rgb(255, 193, 7)',
  );

const colorMap = (what: string) => z.record(z.string(), cssColor).optional().describe(`Colors by ${what}`);

const panel = z
  .strictObject({
    id: z.string().min(1).describe('Panel id (projects, tasks, sessions, errors, …)'),
    title: z.string().optional().describe('Title shown on the panel'),
    icon: z.string().optional().describe('Icon name (folder, list-check, terminal, …)'),
    order: z.number().int().min(0).optional().describe('Position of the panel; lower comes first'),
    enabled: z.boolean().optional().describe('Whether the panel is shown'),
    refresh_interval: positiveInt.optional().describe('Seconds between refreshes'),
  })
  .describe('A dashboard panel');

const column = z
  .strictObject({
    field: z.string().min(1).describe('Field of the row shown in this column'),
    header: z.string().optional().describe('Column header'),
    width: z
      .string()
      .regex(/^(auto|\d+(\.\d+)?(px|%|em|rem|ch|fr))$/, "a CSS width such as '60px', '10%' or 'auto'")
      .optional()
      .describe('Column width, a CSS length'),
    sortable: z.boolean().optional().describe('Whether the table sorts by this column'),
    color_coded: z.boolean().optional().describe('Color the value with theme.colors (status, priority, …)'),
    format: z
      .enum([
        'text',
        'number',
        'percent',
        'boolean',
        'date',
        'datetime',
        'time',
        'relative_time',
        'duration',
        'json',
      ])
      .optional()
      .describe('How the value is displayed'),
  })
  .describe('A table column');

const table = z
  .strictObject({
    columns: z.array(column).min(1).describe('Columns, in display order'),
    default_sort: z
      .strictObject({
        field: z.string().min(1).describe('A field of `columns`'),
        order: z.enum(['asc', 'desc']).optional().describe('Sort order'),
      })
      .optional()
      .describe('Initial sort'),
    page_size: positiveInt.max(10_000).optional().describe('Rows per page'),
    enable_search: z.boolean().optional().describe('Show a search box'),
    enable_filters: z.boolean().optional().describe('Show column filters'),
  })
  .superRefine((t, ctx) => {
    const fields = new Set<string>();
    t.columns.forEach((c, i) => {
      if (fields.has(c.field)) {
        ctx.addIssue({
          code: 'custom',
          message: `column '${c.field}' appears twice`,
          path: ['columns', i, 'field'],
        });
      }
      fields.add(c.field);
    });
    if (t.default_sort && !fields.has(t.default_sort.field)) {
      ctx.addIssue({
        code: 'custom',
        message: `default_sort.field '${t.default_sort.field}' is not one of the columns (${[...fields].join(', ')})`,
        path: ['default_sort', 'field'],
      });
    }
  })
  .describe('A table of the dashboard');

/**
 * Schema of `ui_config.yaml`: how the dashboard looks. `theme.colors` gives the colors of task
 * statuses, priorities and health states; `dashboard_panels` lists the panels with their order,
 * icon and refresh interval; `table_configs` defines each table's columns, default sort, page
 * size, search and filters.
 */
export const uiConfigSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    theme: z
      .strictObject({
        colors: z
          .strictObject({
            status: colorMap('task status (planned, in_progress, completed, …)'),
            priority: colorMap('priority (critical, high, medium, low)'),
            health: colorMap('health (healthy, degraded, unhealthy)'),
          })
          .optional()
          .describe('Color palettes'),
      })
      .optional()
      .describe('Look of the dashboard'),
    dashboard_panels: z
      .array(panel)
      .superRefine((panels, ctx) => {
        const ids = new Set<string>();
        panels.forEach((p, i) => {
          if (ids.has(p.id))
            ctx.addIssue({ code: 'custom', message: `panel '${p.id}' appears twice`, path: [i, 'id'] });
          ids.add(p.id);
        });
      })
      .optional()
      .describe('Panels of the dashboard'),
    table_configs: z.record(z.string(), table).optional().describe('Tables by name (tasks, …)'),
  })
  .describe('Dashboard configuration (ui_config.yaml)');

/** The validated content of `ui_config.yaml`: dashboard colors, panels and tables. */
export type UiConfig = z.output<typeof uiConfigSchema>;

/** The seed's ui_config.yaml example (seed 003, "UI/Dashboard Configuration"): what a dashboard uses without the file. */
export const DEFAULT_UI_CONFIG: UiConfig = {
  version: '1.0',
  theme: {
    colors: {
      status: {
        planned: '#007bff',
        in_progress: '#ffc107',
        completed: '#28a745',
        blocked: '#dc3545',
        cancelled: '#6c757d',
      },
      priority: { critical: '#dc3545', high: '#fd7e14', medium: '#ffc107', low: '#6c757d' },
      health: { healthy: '#28a745', degraded: '#ffc107', unhealthy: '#dc3545' },
    },
  },
  dashboard_panels: [
    { id: 'projects', title: 'Projects', icon: 'folder', order: 1, enabled: true, refresh_interval: 30 },
    { id: 'tasks', title: 'Task Queue', icon: 'list-check', order: 2, enabled: true, refresh_interval: 10 },
    {
      id: 'sessions',
      title: 'Claude Sessions',
      icon: 'terminal',
      order: 3,
      enabled: true,
      refresh_interval: 5,
    },
    {
      id: 'errors',
      title: 'Error Aggregation',
      icon: 'exclamation-triangle',
      order: 4,
      enabled: true,
      refresh_interval: 30,
    },
  ],
  table_configs: {
    tasks: {
      columns: [
        { field: 'id', header: 'ID', width: '60px', sortable: true },
        { field: 'type', header: 'Type', width: '120px', sortable: true },
        { field: 'status', header: 'Status', width: '100px', sortable: true, color_coded: true },
        { field: 'priority', header: 'Priority', width: '80px', sortable: true },
        { field: 'created_at', header: 'Created', width: '150px', sortable: true, format: 'relative_time' },
      ],
      default_sort: { field: 'priority', order: 'desc' },
      page_size: 50,
      enable_search: true,
      enable_filters: true,
    },
  },
};

/**
 * The dashboard's settings: the file's, each part falling back to the seed's. Colour maps merge by
 * key (a file may recolour one status); panels and tables given replace the defaults'.
 */
export function uiConfigWithDefaults(file: UiConfig | undefined): UiConfig {
  const d = DEFAULT_UI_CONFIG;
  const colors = (k: 'status' | 'priority' | 'health') => ({
    ...d.theme!.colors![k],
    ...file?.theme?.colors?.[k],
  });
  return {
    version: file?.version ?? d.version,
    theme: { colors: { status: colors('status'), priority: colors('priority'), health: colors('health') } },
    dashboard_panels: file?.dashboard_panels ?? d.dashboard_panels,
    table_configs: { ...d.table_configs, ...file?.table_configs },
  };
}
