// The blob directory: large artifacts as files named by their digest
// (`<dir>/sha256/<first two hex digits>/<hex>`), written so that a crash leaves a file whole or
// absent, and on disk before the row that names it commits.
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BatonError } from '../errors.js';
import { digestOf } from './content.js';
import { FileDigests, nowNs } from './file-digests.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Blob files this process found to hold their digest's content. A put of content already on disk
 * re-read and re-hashed its file every time: for a sweep over a 1 GB bar file, that is every run.
 * `baton artifacts verify` and every read still hash the bytes.
 */
const checkedBlobFiles = new FileDigests();

function blobPath(dir: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new BatonError('E_INVALID_OPTION', `'${digest}' is not an artifact digest`);
  const hex = digest.slice('sha256:'.length);
  return join(dir, 'sha256', hex.slice(0, 2), hex);
}

/** Writes the blob of `digest` unless a file with exactly that content is there already. */
export async function writeBlobFile(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const path = blobPath(dir, digest);
  const readAt = nowNs();
  const stats = await stat(path, { bigint: true }).catch(() => undefined);
  if (stats !== undefined) {
    if (checkedBlobFiles.get(path, stats) === digest) return;
    const existing = await readFile(path).catch(() => undefined);
    if (existing && digestOf(existing) === digest) {
      checkedBlobFiles.remember(path, stats, digest, existing.length, readAt);
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
  // Not remembered: a file written just now is checked again until it is past the racy window.
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
