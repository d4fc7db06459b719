import { resolve } from 'node:path';
import { BatonError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { migrate, schemaVersion, loadMigrations } from './migrate.js';
import type { Driver } from './driver/types.js';
import type { ClaimedRow } from './sql/claim.js';
import { PostgresDriver, parseDatabaseUrl, redact } from './driver/postgres.js';
import { PGliteDriver } from './driver/pglite.js';
import { openEmbedded } from './driver/embedded.js';
import { toMs, type Duration } from './duration.js';
import { ArtifactStore, type ArtifactStoreOptions } from './artifacts/ledger.js';

/** Where Baton keeps its data. */
export interface StoreOptions {
  /**
   * A PostgreSQL server, `postgres://user:pass@host:5432/db`. Defaults to `BATON_DATABASE_URL`.
   * Without one, Baton runs embedded on PGlite.
   */
  databaseUrl?: string;
  /** PGlite data directory for the embedded backend. Default: `.baton/db` under the working directory. Use `memory://` for a throw-away in-memory database. */
  dataDir?: string;
  /** Connections in the pool (PostgreSQL only). Default 10. */
  poolSize?: number;
  /**
   * Embedded only: while this process holds the data directory, serve it to other local processes
   * (the `baton` CLI beside a running worker), through a loopback port and a secret token kept next
   * to it. Default true. The `baton` commands that only run a statement or two pass false.
   */
  serve?: boolean;
  /**
   * Embedded only: how long to wait for another process holding the data directory to let go when
   * it does not serve it (a short `baton` command) or is still starting. Default 15s.
   */
  waitForHolder?: Duration;
  /**
   * Embedded only, for a process that goes through another that holds the store: called once when
   * that process has exited and left the store to nobody. This process cannot take it over while
   * running (its statements fail as with a server that is down); restart it to open the store.
   */
  onHolderGone?: () => void;
  logger?: Logger;
  /**
   * Where artifacts larger than `inlineBlobMaxBytes` are kept (docs/ledger.md). Default
   * `BATON_BLOB_DIR`, else `.baton/blobs` under the working directory.
   */
  blobDir?: string;
  /** The largest artifact kept in the database; larger ones go to `blobDir`. Default 256 KiB. */
  inlineBlobMaxBytes?: number;
  /**
   * The hash of the configuration this process runs under (`config.hash` of @baton/flows), recorded
   * in the run manifest of every execution that uses the ledger.
   */
  configHash?: string;
}

const DEFAULT_INLINE_BLOB_BYTES = 256 * 1024;

function artifactOptions(options: StoreOptions): ArtifactStoreOptions {
  const max = options.inlineBlobMaxBytes ?? DEFAULT_INLINE_BLOB_BYTES;
  if (!Number.isInteger(max) || max < 0)
    throw new BatonError(
      'E_INVALID_OPTION',
      `inlineBlobMaxBytes must be a whole number of bytes, 0 or more, got ${String(max)}`,
    );
  return {
    blobDir: resolve(options.blobDir ?? process.env.BATON_BLOB_DIR ?? '.baton/blobs'),
    inlineMaxBytes: max,
    configHash: options.configHash,
  };
}

/** An open database: the driver every other part of Baton uses, plus its logger. */
/**
 * A worker in this process, as a Client starting a workflow sees it: a workflow it runs, started
 * while it has a free handler, is inserted already claimed by it and run at once (see Client.start).
 * @internal
 */
export interface LocalRunner {
  readonly id: string;
  /** True when it runs `workflow`, serves `queue` without a global limit, and has a free handler. */
  hasRoomFor(workflow: string, queue: string): boolean;
  /** Runs an execution just inserted already claimed by it. */
  runStartedHere(row: ClaimedRow): void;
  /** An insert already claimed by it lost its reply: it may hold an execution it does not know of. */
  startMayHaveCommitted(): void;
}

export class Store {
  private readonly runners = new Set<LocalRunner>();
  private readonly waiting = new Map<string, Set<() => void>>();
  /** The artifacts ledger (docs/ledger.md). */
  readonly artifacts: ArtifactStore;

  private constructor(
    readonly driver: Driver,
    readonly logger: Logger,
    /** Human-readable location, password hidden. */
    readonly location: string,
    artifacts: ArtifactStoreOptions,
    /** Runs before the driver closes (an embedded holder stops serving). */
    private readonly beforeClose?: () => Promise<void>,
  ) {
    this.artifacts = new ArtifactStore(driver, artifacts);
  }

  /** Opens the store named by the options or by `BATON_DATABASE_URL`; PGlite in `.baton/` otherwise. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const logger = options.logger ?? createLogger();
    const artifacts = artifactOptions(options);
    const url = options.databaseUrl ?? process.env.BATON_DATABASE_URL;
    if (url) {
      parseDatabaseUrl(url);
      const driver = new PostgresDriver(url, logger, options.poolSize);
      try {
        await driver.query('SELECT 1');
      } catch (err) {
        await driver.close().catch(() => undefined);
        throw new BatonError(
          'E_DATABASE_UNAVAILABLE',
          `cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}. Check that the server is running and the URL is right.`,
          { cause: err },
        );
      }
      return new Store(driver, logger, redact(url), artifacts);
    }
    const dir = options.dataDir ?? resolve('.baton/db');
    if (dir === 'memory://')
      return new Store(await PGliteDriver.open(undefined), logger, 'PGlite (in memory)', artifacts);
    const opened = await openEmbedded(dir, {
      serve: options.serve ?? true,
      waitMs: toMs(options.waitForHolder ?? '15s', 'waitForHolder'),
      logger,
      onHolderGone: options.onHolderGone,
    });
    return new Store(opened.driver, logger, opened.location, artifacts, opened.beforeClose);
  }

  /**
   * Waits until a worker of this process records an outcome for `id`, or `ms` passes: a hint that
   * lets `Client.waitFor` answer at once for work run in this process instead of at its next poll.
   * @internal
   */
  outcomeOf(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(id);
      if (!set) this.waiting.set(id, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** Workers call this after writing outcomes (completed, failed, released …) for `ids`. @internal */
  recorded(ids: Iterable<string>): void {
    if (this.waiting.size === 0) return;
    for (const id of ids) for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  /** A worker announces itself while it runs; returns the function that withdraws it. @internal */
  attachRunner(runner: LocalRunner): () => void {
    this.runners.add(runner);
    return () => void this.runners.delete(runner);
  }

  /** A worker of this process that can run a new `workflow` on `queue` now, if there is one. @internal */
  runnerFor(workflow: string, queue: string): LocalRunner | undefined {
    for (const r of this.runners) if (r.hasRoomFor(workflow, queue)) return r;
    return undefined;
  }

  /** Applies pending migrations; returns the versions applied. Safe to call from many processes at once. */
  migrate(): Promise<number[]> {
    return migrate(this.driver);
  }

  /**
   * Throws E_SCHEMA_TOO_NEW or tells the caller to migrate when the database's schema does not
   * match this code. Workers and clients call it at start.
   */
  async checkSchema(): Promise<void> {
    const have = await schemaVersion(this.driver);
    const want = loadMigrations().at(-1)?.version ?? 0;
    if (have > want) {
      throw new BatonError(
        'E_SCHEMA_TOO_NEW',
        `the database schema (version ${have}) is newer than this Baton (version ${want}); upgrade Baton before running it against ${this.location}`,
      );
    }
    if (have < want) {
      throw new BatonError(
        'E_INVALID_STATE',
        `the database at ${this.location} is at schema version ${have}, this Baton needs ${want}; run \`baton migrate\` (or store.migrate()) first`,
      );
    }
  }

  async close(): Promise<void> {
    await this.beforeClose?.();
    await this.driver.close();
  }
}
