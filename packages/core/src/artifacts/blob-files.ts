// The blob directory: large artifacts as files named by their digest
// (`<dir>/sha256/<first two hex digits>/<hex>`), written so that a crash leaves a file whole or
// absent, and on disk before the row that names it commits.
import type { BigIntStats } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BatonError } from '../errors.js';
import { digestOf } from './content.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Blob files this process wrote or hashed, with what `stat` said of them then. A put of content
 * already on disk re-read and re-hashed its file every time: for a sweep over a 1 GB bar file,
 * that is every run. A file whose size, inode, mtime and ctime are unchanged is taken as checked;
 * any write to it (even one that restores its mtime) moves its ctime. `baton artifacts verify`
 * and every read still hash the bytes.
 */
const checkedBlobFiles = new Map<string, string>();

/** What identifies a file's version without reading it: device, inode, size, mtime and ctime. */
export const stampOf = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

async function fileStamp(path: string): Promise<string | undefined> {
  const s = await stat(path, { bigint: true }).catch(() => undefined);
  return s && stampOf(s);
}

function blobPath(dir: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new BatonError('E_INVALID_OPTION', `'${digest}' is not an artifact digest`);
  const hex = digest.slice('sha256:'.length);
  return join(dir, 'sha256', hex.slice(0, 2), hex);
}

/** Writes the blob of `digest` unless a file with exactly that content is there already. */
export async function writeBlobFile(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const path = blobPath(dir, digest);
  const stamp = await fileStamp(path);
  if (stamp !== undefined) {
    if (checkedBlobFiles.get(path) === stamp) return;
    const existing = await readFile(path).catch(() => undefined);
    if (existing && digestOf(existing) === digest) {
      checkedBlobFiles.set(path, stamp);
      return;
    }
  }
  const parent = join(path, '..');
  await mkdir(parent, { recursive: true });
  // Written aside, flushed, renamed, and the rename flushed.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(parent, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  const written = await fileStamp(path);
  if (written !== undefined) checkedBlobFiles.set(path, written);
}

/** The bytes of the blob file of `digest`; E_NOT_FOUND, naming where it looked, if it is not there. */
export async function readBlobFile(dir: string, digest: string): Promise<Buffer> {
  const path = blobPath(dir, digest);
  try {
    return await readFile(path);
  } catch (err) {
    throw new BatonError(
      'E_NOT_FOUND',
      `the blob of ${digest} is not at ${path}: it is kept in the blob directory of the process that stored it; point BATON_BLOB_DIR at that directory`,
      { cause: err },
    );
  }
}
