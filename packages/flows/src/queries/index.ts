// The named-query service: SQL from queries.yaml, run by name on the datasources of datasources.yaml.
export {
  createQueryService,
  type QueryService,
  type QueryServiceOptions,
  type QueryResult,
  type QueryInfo,
  type QueryStats,
  type IndexReport,
} from './service.js';
export { DEFAULT_STATEMENT_TIMEOUT_MS } from './postgres.js';
