// Opening an embedded store from any local process. The first process to take the data
// directory's lock runs PGlite and, unless told not to, serves it to the others; the others
// reach it through that process (docs/decisions/0012). A holder that does not serve (a short
// `baton` command) is waited for: it lets go in a moment.
import { BatonError } from '../errors.js';
import { PGliteDriver } from './pglite.js';
import { RemoteDriver } from './remote.js';
import { LocalServer } from './local-server.js';
import { lockOwner, processExists, readServeInfo, tryLock } from './embedded-lock.js';
import type { Driver } from './types.js';
import type { Logger } from '../logger.js';

export interface EmbeddedOptions {
  /** Serve the store to other local processes while this one holds it. */
  serve: boolean;
  /** How long to wait for a holder that does not serve to let go (it may also be starting). */
  waitMs: number;
  logger: Logger;
  /** Called when the process this one went through exits and leaves the store to nobody. */
  onHolderGone?: () => void;
}

export interface OpenedEmbedded {
  driver: Driver;
  location: string;
  /** Runs before the driver closes: stops serving (connected clients get a moment to finish). */
  beforeClose?: () => Promise<void>;
}

export async function openEmbedded(dataDir: string, o: EmbeddedOptions): Promise<OpenedEmbedded> {
  const deadline = Date.now() + o.waitMs;
  for (let delay = 20; ; delay = Math.min(250, delay * 2)) {
    const lock = tryLock(dataDir);
    if ('unlock' in lock) {
      const driver = await PGliteDriver.open(dataDir, lock.unlock);
      if (!o.serve) return { driver, location: `PGlite at ${dataDir}` };
      let server: LocalServer;
      try {
        server = await LocalServer.start(driver, dataDir, o.logger);
      } catch (err) {
        await driver.close();
        throw err;
      }
      return { driver, location: `PGlite at ${dataDir}`, beforeClose: () => server.close() };
    }
    const info = readServeInfo(dataDir, lock.owner);
    if (info) {
      const remote = new RemoteDriver(
        () => {
          const owner = lockOwner(dataDir);
          return owner === undefined ? 'gone' : readServeInfo(dataDir, owner);
        },
        `the embedded store at ${dataDir}`,
        o.onHolderGone,
      );
      // Connect now, so that a holder that cannot be reached is reported here, not at the first query.
      try {
        await remote.query('SELECT 1');
      } catch (err) {
        await remote.close();
        // A holder that exited meanwhile leaves the store to us: the next turn takes it over.
        if (!processExists(lock.owner)) continue;
        if (Date.now() < deadline) {
          await sleep(delay);
          continue;
        }
        throw unavailable(dataDir, lock.owner, `its server did not answer (${(err as Error).message})`);
      }
      return {
        driver: remote,
        location: `PGlite at ${dataDir} (through process ${info.pid}, which holds it)`,
      };
    }
    if (Date.now() >= deadline) throw unavailable(dataDir, lock.owner, 'it does not serve other processes');
    await sleep(delay);
  }
}

function unavailable(dataDir: string, owner: number, why: string): BatonError {
  return new BatonError(
    'E_DATABASE_UNAVAILABLE',
    `the embedded database at ${dataDir} is open in process ${owner}${owner === process.pid ? ' (this one)' : ''}, and ${why}. ` +
      'Stop that process, run this command through it (a `baton worker` or `baton dev` serves the others), ' +
      'or use a PostgreSQL server (BATON_DATABASE_URL) to share the database between processes.',
    { details: { dataDir, owner } },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
