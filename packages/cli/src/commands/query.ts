import { Command } from 'commander';
import { BatonError } from '@baton/core';
import { createQueryService, type Config, type QueryResult, type QueryService } from '@baton/flows';
import { openStore, makeLogger, type GlobalOptions, type Io } from '../context.js';
import { table } from '../format.js';
import { loadConfigFor, reportingConfigErrors } from './config.js';
import { collect } from './options.js';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** `baton query <name>`: runs a named query of queries.yaml. */
export function queryCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('query')
    .description('run a named query of queries.yaml (see `baton queries list`)')
    .argument('<name>', 'the query')
    .option(
      '-p, --param <name=value>',
      'a parameter, as text (repeat for each; lists comma-separated)',
      collect,
      [],
    )
    .option('-f, --format <format>', `${FORMATS.join(', ')}`, 'table')
    .action(async (name: string, o: { param: string[]; format: string }) => {
      const format = parseFormat(o.format);
      const params = parseParams(o.param);
      await withQueries(globals(), io, async (service) => {
        const r = await service.run(name, params);
        io.out(render(r, format));
        if (format === 'table')
          io.err(
            `${r.count} row${r.count === 1 ? '' : 's'}${r.truncated ? ' (truncated: the query has no LIMIT)' : ''}${r.cached ? ' (cached)' : ''}`,
          );
      });
    });
}

/** `baton queries list|apply-indexes`. */
export function queriesCommand(globals: () => GlobalOptions, io: Io): Command {
  const queries = new Command('queries').description('the named queries of queries.yaml');
  queries
    .command('list')
    .description('every query, its datasource, parameters and cache time')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withQueries(globals(), io, async (service) => {
        const list = service.list();
        if (o.json) {
          io.out(JSON.stringify(list, null, 2));
          return;
        }
        io.out(
          table(
            ['NAME', 'DATASOURCE', 'PARAMS', 'CACHE', 'DESCRIPTION'],
            list.map((q) => [
              q.name,
              q.datasource,
              q.params
                .map(
                  (p) =>
                    `${p.name}:${p.type}${p.required ? '!' : p.default !== undefined ? `=${String(p.default)}` : ''}`,
                )
                .join(' '),
              q.cache_ttl ? `${q.cache_ttl}s` : '-',
              q.description,
            ]),
          ),
        );
      });
    });
  queries
    .command('apply-indexes')
    .description('create the indexes queries.yaml declares (idempotent; refuses unknown tables and columns)')
    .action(async () => {
      await withQueries(globals(), io, async (service) => {
        const r = await service.applyIndexes();
        for (const n of r.created) io.out(`created ${n}`);
        for (const n of r.existing) io.out(`exists  ${n}`);
        io.err(`${r.created.length} created, ${r.existing.length} already existed`);
      });
    });
  return queries;
}

/** Loads the configuration and its query service (with the Baton store if a datasource is `type: baton`). */
async function withQueries(
  g: GlobalOptions,
  io: Io,
  fn: (service: QueryService) => Promise<void>,
): Promise<void> {
  const config = await loadConfigFor(g, io);
  const logger = makeLogger(g);
  const store = usesBatonStore(config) ? await openStore(g, logger, false) : undefined;
  try {
    const service = await reportingConfigErrors(io, () => createQueryService(config, { store, logger }));
    try {
      await fn(service);
    } finally {
      await service.close();
    }
  } finally {
    await store?.close();
  }
}

function usesBatonStore(config: Config): boolean {
  return Object.values(config.value.datasources?.datasources ?? {}).some((d) => d.type === 'baton');
}

function parseParams(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `--param '${pair}' is not name=value (e.g. --param status=pending)`,
      );
    }
    const key = pair.slice(0, eq);
    if (Object.hasOwn(out, key)) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `--param ${key} is given twice; give a list as one comma-separated value (--param ${key}=a,b)`,
      );
    }
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

function parseFormat(f: string): Format {
  if (!(FORMATS as readonly string[]).includes(f)) {
    throw new BatonError('E_INVALID_OPTION', `--format '${f}' is not one of ${FORMATS.join(', ')}`);
  }
  return f as Format;
}

function render(r: QueryResult, format: Format): string {
  if (format === 'json') {
    return JSON.stringify({
      query: r.query,
      results: r.results,
      count: r.count,
      ...(r.truncated ? { truncated: true } : {}),
    });
  }
  const columns = [...new Set(r.results.flatMap((row) => Object.keys(row)))];
  if (format === 'csv')
    return [columns, ...r.results.map((row) => columns.map((c) => cell(row[c])))].map(csvLine).join('\n');
  if (r.results.length === 0) return '(no rows)';
  return table(
    columns.map((c) => c.toUpperCase()),
    r.results.map((row) => columns.map((c) => cell(row[c]))),
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** One CSV record (RFC 4180): fields with a comma, quote or line break are quoted, quotes doubled. */
function csvLine(fields: readonly string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}
