import { Store, createLogger, type Logger } from '@baton/core';

/** Where the embedded store lives unless --data-dir says otherwise. */
export const DEFAULT_DATA_DIR = '.baton/db';

/** Options every command accepts. */
export interface GlobalOptions {
  database?: string;
  dataDir?: string;
  verbose?: boolean;
  logLevel?: string;
  configDir?: string;
}

/** Where commands write: injectable so tests can run the program in-process too. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

export function makeLogger(g: GlobalOptions): Logger {
  return createLogger(g.logLevel ?? process.env.BATON_LOG_LEVEL ?? (g.verbose ? 'debug' : 'warn'));
}

/**
 * Opens the store named by --database, BATON_DATABASE_URL or --data-dir (PGlite in .baton/ by
 * default). A long-running command (`worker`, `dev`) that holds the embedded store serves it to
 * the other `baton` commands; they then run through it.
 */
export function openStore(
  g: GlobalOptions,
  logger = makeLogger(g),
  serve = true,
  onHolderGone?: () => void,
  configHash?: string,
): Promise<Store> {
  return Store.open({ databaseUrl: g.database, dataDir: g.dataDir, logger, serve, onHolderGone, configHash });
}

/**
 * Runs `fn` with an open store and closes it afterwards (a short command: it serves no one). The
 * schema is checked first, so that a store an older Baton wrote says to run `baton migrate`
 * instead of failing on a missing column; `migrate` itself passes `checkSchema: false`.
 */
export async function withStore<T>(
  g: GlobalOptions,
  fn: (store: Store) => Promise<T>,
  options: { checkSchema?: boolean } = {},
): Promise<T> {
  const store = await openStore(g, makeLogger(g), false);
  try {
    if (options.checkSchema !== false) await store.checkSchema();
    return await fn(store);
  } finally {
    await store.close();
  }
}
