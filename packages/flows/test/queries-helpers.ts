// Shared parts of the named-query tests: configuration views built by hand (the YAML parsed and
// validated by the kinds' schemas), temporary SQLite files, a logger whose lines the test can read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';

import { parse } from 'yaml';
import { createLogger, type Logger } from '@baton/core';
import { queriesSchema, type QueriesConfig } from '../src/config/kinds/queries.js';
import { datasourcesSchema, type DatasourcesConfig } from '../src/config/kinds/datasources.js';
import type { ConfigView, SourceLocation } from '../src/config/types.js';

export const FIXTURE_QUERIES = fileURLToPath(
  new URL('../../../examples/architect/baton/base/queries.yaml', import.meta.url),
);

/** The location every hand-built view reports. */
export const AT: SourceLocation = { file: '/cfg/base/queries.yaml', line: 12, col: 3 };

/** The fixture queries.yaml, validated. */
export function fixtureQueries(): QueriesConfig {
  return queriesSchema.parse(parse(readFileSync(FIXTURE_QUERIES, 'utf8')));
}

/** queries.yaml text (or value), validated. */
export function queries(yaml: string | object): QueriesConfig {
  return queriesSchema.parse(typeof yaml === 'string' ? parse(yaml) : yaml);
}

/** datasources.yaml with one SQLite datasource `architect` at `path`. */
export function sqliteSource(path: string, name = 'architect'): DatasourcesConfig {
  return datasourcesSchema.parse({ datasources: { [name]: { type: 'sqlite', path } } });
}

/** A configuration view of `dir`; `locate` answers {@link AT}, or from `where` when it knows the path. */
export function view(
  dir: string,
  value: { queries?: QueriesConfig; datasources?: DatasourcesConfig },
  where: Record<string, SourceLocation> = {},
): ConfigView {
  return { dir, value, locate: (path) => where[path] ?? AT };
}

/** A temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'baton-queries-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const silent: Logger = createLogger('silent');

/** A debug-level logger that keeps each line it writes, parsed. */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: undefined }, sink), lines };
}

/** A controllable clock for the result cache. */
export function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
