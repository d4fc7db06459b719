// The `datasources` kind (datasources.yaml): the databases named queries run on.
import { z } from 'zod';

const sqlite = z
  .strictObject({
    type: z.literal('sqlite'),
    path: z
      .string()
      .min(1)
      .describe('The SQLite file; a relative path is relative to the configuration directory'),
    writable: z
      .boolean()
      .optional()
      .describe("YAML workflows' database steps may insert, update and delete here (default false)"),
  })
  .describe('A SQLite file, opened read-only for queries');

const postgres = z
  .strictObject({
    type: z.literal('postgres'),
    // null when it was `${VAR}` and VAR is unset: the service then says which datasource lacks it.
    url: z.string().min(1).nullable().describe('postgres://user:password@host:5432/database'),
    statement_timeout_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('statement_timeout of its queries in ms (default 5000)'),
    writable: z
      .boolean()
      .optional()
      .describe("YAML workflows' database steps may insert, update and delete here (default false)"),
  })
  .describe('A PostgreSQL server; queries run in READ ONLY transactions');

const baton = z
  .strictObject({
    type: z.literal('baton'),
    writable: z
      .boolean()
      .optional()
      .describe("YAML workflows' database steps may insert, update and delete here (default false)"),
  })
  .describe("Baton's own store (the database its jobs and workflows live in)");

const datasourceDefinition = z.discriminatedUnion('type', [sqlite, postgres, baton]);

export const datasourcesSchema = z
  .strictObject({
    version: z.union([z.string(), z.number()]).optional().describe('The format version ("1.0")'),
    default_datasource: z
      .string()
      .optional()
      .describe('The datasource of queries that name none (default: the only one declared)'),
    datasources: z.record(z.string(), datasourceDefinition).describe('The datasources, by name'),
  })
  .describe('Databases named queries run on (datasources.yaml)');

/** The validated content of datasources.yaml. */
export type DatasourcesConfig = z.output<typeof datasourcesSchema>;
/** One datasource: a SQLite file, a PostgreSQL server, or Baton's own store. */
export type DatasourceDefinition = DatasourcesConfig['datasources'][string];
