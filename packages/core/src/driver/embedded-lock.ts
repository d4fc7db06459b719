// Who holds an embedded (PGlite) store, and where it serves other local processes.
//   <dataDir>.lock   the holder's pid. A lock left by a process that no longer exists is taken over.
//   <dataDir>.serve  {pid, port, token}: the loopback port and secret of the holder's local server
//                    (docs/decisions/0012). Readable by this user only: the token is the key.
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** How to reach the process serving an embedded store. */
export interface ServeInfo {
  pid: number;
  port: number;
  token: string;
}

/** Takes the lock of `dataDir`, or says which live process holds it. */
export function tryLock(dataDir: string): { unlock: () => void } | { owner: number } {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { unlock: () => removeQuietly(path) };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      continue; // Released between our two calls: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && processExists(owner)) return { owner };
    // Stale: its holder died (a SIGKILL, a crash). What it served is gone with it.
    removeQuietly(`${dataDir}.serve`);
    removeQuietly(path);
  }
}

/** The live process holding `dataDir`'s lock, if any (the lock is only read). */
export function lockOwner(dataDir: string): number | undefined {
  try {
    const owner = Number(readFileSync(`${dataDir}.lock`, 'utf8'));
    return Number.isInteger(owner) && owner > 0 && processExists(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
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

/** Publishes where this process serves `dataDir`: written aside and renamed, so no reader sees half a file. */
export function writeServeInfo(dataDir: string, info: ServeInfo): () => void {
  const path = `${dataDir}.serve`;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
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

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
