// How a driver's failure during a run becomes a BatonError with a stable code.
import { BatonError, isBatonError, isConnectionError, type BatonErrorCode } from '@baton/core';

/** True for errors that mean the database cannot be reached now (a server down or gone, or a SQLite file locked by a writer): a retry may succeed. */
export function isUnavailable(err: unknown): boolean {
  return (
    isConnectionError(err) ||
    (err as { code?: unknown })?.code === 'SQLITE_BUSY' ||
    /timeout exceeded when trying to connect/i.test((err as Error)?.message ?? '')
  );
}

/** The code of a failed run: PostgreSQL SQLSTATE classes first, then what the message says. */
function codeOf(err: unknown): BatonErrorCode {
  if (isUnavailable(err)) return 'E_DATABASE_UNAVAILABLE';
  const sqlstate = String((err as { code?: unknown }).code ?? '');
  if (sqlstate === '57014') return 'E_TIMEOUT'; // canceled by statement_timeout
  if (sqlstate === '25006') return 'E_CONFIG_INVALID'; // a write in a READ ONLY transaction: the query is wrong
  if (sqlstate.startsWith('22') || /too many SQL variables/.test((err as Error).message))
    return 'E_INPUT_INVALID';
  return 'E_INVALID_STATE';
}

/** Wraps a driver error of a run of `query` on `datasource` (a BatonError passes through). */
export function runError(query: string, datasource: string, err: unknown): BatonError {
  if (isBatonError(err)) return err;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const advice: Partial<Record<BatonErrorCode, string>> = {
    E_DATABASE_UNAVAILABLE: '; check that the database is up and retry',
    E_TIMEOUT: '; add a LIMIT or an index, or raise statement_timeout_ms',
    E_CONFIG_INVALID: '; named queries only read',
  };
  return new BatonError(
    code,
    `query '${query}' failed on datasource '${datasource}': ${message}${advice[code] ?? ''}`,
    {
      cause: err,
      details: { query, datasource },
    },
  );
}
