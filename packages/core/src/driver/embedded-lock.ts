// Who holds an embedded (PGlite) store, and where it serves other local processes.
//   <dataDir>.lock   the holder's pid. A lock left by a process that no longer exists is taken over.
//   <dataDir>.serve  {pid, port, token}: the loopback port and secret of the holder's local server
//                    (docs/decisions/0012). Readable by this user only: the token is the key.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** How to reach the process serving an embedded store. */
export interface ServeInfo {
  pid: number;
  port: number;
  token: string;
}

/**
 * Takes the lock of `dataDir`, or says which live process holds it (or is taking it over). The
 * lock file appears with its content at once (written aside, then hard-linked into place), so no
 * reader ever sees it empty; a stale lock is replaced only under `<dataDir>.lock.takeover`, so two
 * processes taking it over at once cannot both win.
 */
export function tryLock(dataDir: string): { unlock: () => void } | { owner: number } {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    if (createWithPid(path)) return { unlock: () => removeQuietly(path) };
    const owner = readPid(path);
    if (owner === undefined) continue; // Released between our two calls: try again.
    if (owner > 0 && processExists(owner)) return { owner };
    // Stale: its holder died (a SIGKILL, a crash). What it served is gone with it.
    const guard = `${path}.takeover`;
    if (!createWithPid(guard)) {
      const taker = readPid(guard);
      if (taker !== undefined && taker > 0 && processExists(taker)) return { owner: taker };
      removeQuietly(guard); // Left by a taker that died: clear it and try again.
      continue;
    }
    try {
      if (readPid(path) === owner) {
        removeQuietly(`${dataDir}.serve`);
        removeQuietly(path);
      }
    } finally {
      removeQuietly(guard);
    }
  }
}

/** The live process holding `dataDir`'s lock, if any (the lock is only read). */
export function lockOwner(dataDir: string): number | undefined {
  const owner = readPid(`${dataDir}.lock`);
  return owner !== undefined && owner > 0 && processExists(owner) ? owner : undefined;
}

/** The serve file of `dataDir` if the live process `owner` wrote it. */
export function readServeInfo(dataDir: string, owner: number): ServeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(`${dataDir}.serve`, 'utf8')) as Partial<ServeInfo>;
    if (info.pid !== owner || typeof info.port !== 'number' || typeof info.token !== 'string')
      return undefined;
    return info as ServeInfo;
  } catch {
    return undefined;
  }
}

/**
 * Publishes where this process serves `dataDir`: written to a new file of a random name (created,
 * never followed, mode 0600) and renamed into place, so no reader sees half a file.
 */
export function writeServeInfo(dataDir: string, info: ServeInfo): () => void {
  const path = `${dataDir}.serve`;
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return () => removeQuietly(path);
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Creates `path` holding this process's pid, atomically; false if it exists. */
function createWithPid(path: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, String(process.pid), { flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    return false;
  } finally {
    removeQuietly(tmp);
  }
}

/** The pid in a lock file; undefined when the file is gone. A file that holds no pid counts as pid 0 (stale). */
function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
