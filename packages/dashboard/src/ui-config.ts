// The dashboard's settings from ui_config.yaml (GET /api/ui, the seed's defaults where the file is
// silent): panel titles, order and refresh intervals, colours, and the task table's columns.
import { useQuery } from '@tanstack/react-query';
import { api } from './api';
import { duration, relativeTime } from './format';

export interface Panel {
  id: string;
  title?: string;
  order?: number;
  enabled?: boolean;
  refresh_interval?: number;
}

export interface Column {
  field: string;
  header?: string;
  width?: string;
  sortable?: boolean;
  color_coded?: boolean;
  format?: string;
}

export interface TableConfig {
  columns: Column[];
  default_sort?: { field: string; order?: 'asc' | 'desc' };
  page_size?: number;
  enable_search?: boolean;
  enable_filters?: boolean;
}

export interface UiConfig {
  theme: {
    colors: {
      status: Record<string, string>;
      priority: Record<string, string>;
      health: Record<string, string>;
    };
  };
  dashboard_panels: Panel[];
  table_configs: Record<string, TableConfig>;
}

export function useUiConfig(): UiConfig | undefined {
  return useQuery({ queryKey: ['ui'], queryFn: () => api<UiConfig>('/api/ui'), staleTime: 60_000 }).data;
}

/** A panel's refresh interval in ms, or `fallback`. */
export function refreshMs(ui: UiConfig | undefined, id: string, fallback: number): number {
  const s = ui?.dashboard_panels.find((p) => p.id === id)?.refresh_interval;
  return s ? s * 1000 : fallback;
}

// The seed's palette names its own statuses; Baton's tasks map onto them.
const STATUS_ALIAS: Record<string, string> = {
  pending: 'planned',
  assigned: 'planned',
  running: 'in_progress',
  failed: 'blocked',
};

export function statusColor(ui: UiConfig | undefined, status: string): string | undefined {
  const colors = ui?.theme.colors.status ?? {};
  return colors[status] ?? colors[STATUS_ALIAS[status] ?? ''];
}

/** 9–10 critical, 7–8 high, 4–6 medium, 0–3 low. */
export function priorityColor(ui: UiConfig | undefined, priority: number): string | undefined {
  const band = priority >= 9 ? 'critical' : priority >= 7 ? 'high' : priority >= 4 ? 'medium' : 'low';
  return ui?.theme.colors.priority[band];
}

const HEALTH: Record<string, string> = {
  idle: 'healthy',
  busy: 'healthy',
  waiting_input: 'degraded',
  draining: 'degraded',
  stale: 'unhealthy',
  offline: 'unhealthy',
};

export function healthColor(ui: UiConfig | undefined, sessionStatus: string): string | undefined {
  return ui?.theme.colors.health[HEALTH[sessionStatus] ?? ''];
}

/** A cell's text in the column's `format`. */
export function formatCell(value: unknown, format = 'text'): string {
  if (value === null || value === undefined) return '—';
  switch (format) {
    case 'relative_time':
      return relativeTime(String(value));
    case 'datetime':
      return new Date(String(value)).toLocaleString();
    case 'date':
      return new Date(String(value)).toLocaleDateString();
    case 'time':
      return new Date(String(value)).toLocaleTimeString();
    case 'duration':
      // A number of milliseconds, as the API gives durations.
      return Number.isFinite(Number(value)) ? duration(Number(value)) : String(value);
    case 'percent':
      return `${Number(value).toFixed(0)}%`;
    case 'number':
      return Number(value).toLocaleString();
    case 'boolean':
      return value ? 'yes' : 'no';
    case 'json':
      return JSON.stringify(value);
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
