// The `queries` kind (queries.yaml): named SQL queries with typed parameters, cache TTLs, the indexes
// they rely on, and service-wide optimization settings. The format is the Architect Dashboard's.
import { z } from 'zod';

/** The parameter types a query may declare; `T[]` is a list bound to `IN (:name)`. */
export const PARAM_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'timestamp',
  'string[]',
  'integer[]',
  'number[]',
  'boolean[]',
  'timestamp[]',
] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const queryParam = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]*$/,
        'a name made of letters, digits and _ (it is written :name in the SQL)',
      )
      .describe('The name, written `:name` in the SQL'),
    type: z.enum(PARAM_TYPES).describe('The value type; a value given as text is converted to it'),
    required: z.boolean().optional().describe('A run without this param is refused (default false)'),
    default: z
      .union([scalar, z.null(), z.array(scalar)])
      .optional()
      .describe('The value used when the param is not given; converted like a given value'),
    description: z.string().optional().describe('What the param means, for `baton queries list`'),
  })
  .describe('A parameter of a named query');

const queryDefinition = z
  .strictObject({
    description: z.string().describe('What the query returns'),
    sql: z.string().min(1).describe('One read-only SQL statement; parameters are written :name'),
    params: z
      .array(queryParam)
      .describe('The parameters the SQL uses, each exactly once declared')
      .superRefine((params, ctx) => {
        const seen = new Set<string>();
        params.forEach((p, i) => {
          if (seen.has(p.name)) {
            ctx.addIssue({
              code: 'custom',
              message: `param '${p.name}' is declared twice; give each param one entry`,
              path: [i, 'name'],
            });
          }
          seen.add(p.name);
        });
      }),
    cache_ttl: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'Seconds a result is cached per parameter values; 0 = no cache (default: optimization.default_cache_ttl)',
      ),
    datasource: z
      .string()
      .optional()
      .describe(
        'The datasource (datasources.yaml) it runs on; default: default_datasource, else the only one',
      ),
    statement_timeout_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'PostgreSQL and Baton datasources: statement_timeout of this query in ms (default: the datasource’s)',
      ),
  })
  .describe('A named SQL query');

const indexDefinition = z
  .strictObject({
    table: z.string().min(1).describe('The table the index is on'),
    name: z
      .string()
      .min(1)
      .describe('The index name; an index of that name that exists already is left alone'),
    columns: z.array(z.string().min(1)).min(1).describe('The indexed columns, in order'),
    description: z.string().optional().describe('What the index speeds up'),
    datasource: z
      .string()
      .optional()
      .describe('The datasource whose database gets the index (default as for queries)'),
    unique: z.boolean().optional().describe('Create a UNIQUE index (default false)'),
  })
  .describe('An index `baton queries apply-indexes` creates');

const optimization = z
  .strictObject({
    default_cache_ttl: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('cache_ttl of queries that set none, in seconds (default 0: no cache)'),
    max_results_without_limit: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Rows returned at most by a query whose SQL has no top-level LIMIT (default 1000)'),
    enable_query_logging: z.boolean().optional().describe('Log every run at debug level (default false)'),
    slow_query_threshold_ms: z
      .number()
      .min(0)
      .optional()
      .describe('A run taking at least this many ms is logged as a warning (default: never)'),
  })
  .describe('Service-wide settings of the named queries');

export const queriesSchema = z
  .strictObject({
    version: z.union([z.string(), z.number()]).optional().describe('The format version ("1.0")'),
    queries: z.record(z.string(), queryDefinition).describe('The named queries, by name'),
    indexes: z.array(indexDefinition).optional().describe('Indexes the queries rely on'),
    optimization: optimization.optional(),
  })
  .describe('Named SQL queries (queries.yaml)');

/** The validated content of queries.yaml. */
export type QueriesConfig = z.output<typeof queriesSchema>;
/** One named query of queries.yaml. */
export type QueryDefinition = QueriesConfig['queries'][string];
/** One declared parameter of a named query. */
export type QueryParam = QueryDefinition['params'][number];
/** The type of a parameter: a scalar type or a list of one (`integer[]`). */
export type ParamType = QueryParam['type'];
/** One index of queries.yaml. */
export type IndexDefinition = NonNullable<QueriesConfig['indexes']>[number];
