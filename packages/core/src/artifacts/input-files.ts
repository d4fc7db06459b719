// Input files a run declares it read (ctx.artifacts.input / read / readMany): their bytes and digest.
// A sweep's runs read the same files again and again; hashing a large bar file on every run costs
// as much as reading it. A regular file whose device, inode, size, mtime and ctime are what they
// were when this process hashed it keeps its digest, as git's index does: on local POSIX file
// systems any write moves the ctime, which no system call sets back (decision 0028 says where that
// does not hold). A file changed within the timestamp granularity of the read could keep its ctime,
// so a file changed less than RACY_NS before its read began is hashed again on every read ("racy
// git"). `baton artifacts verify` always hashes the stored bytes.
import type { BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { BatonError } from '../errors.js';
import { stampOf } from './blob-files.js';
import { checkArtifactName, digestOf } from './content.js';

/** How recent a change makes a file's stamp untrustworthy (well above any file system's granularity). */
const RACY_NS = 2_000_000_000n;
/** Files whose digest is kept; the oldest is forgotten past this. */
const KEPT = 1024;

const hashed = new Map<string, { stamp: string; digest: string }>();

export interface InputFile {
  /** The path as the ledger names it: relative to the working directory when under it (`./a.csv` and `a.csv` are one input), absolute otherwise. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly digest: string;
}

/** Reads a declared input file; E_NOT_FOUND (with the working directory) when it cannot be read. */
export async function readInputFile(path: string): Promise<InputFile> {
  checkArtifactName(path);
  const full = resolve(path);
  const rel = relative(process.cwd(), full);
  const name = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : full;
  try {
    const readAt = BigInt(Date.now()) * 1_000_000n;
    const file = await open(full, 'r');
    try {
      const before = await file.stat({ bigint: true });
      const bytes = await file.readFile();
      const after = await file.stat({ bigint: true });
      return { name, bytes, digest: digestFor(full, bytes, before, after, readAt) };
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new BatonError(
      'E_NOT_FOUND',
      `cannot read input file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; declare a file the run reads, with a path from its working directory (${process.cwd()})`,
      { cause: err },
    );
  }
}

function digestFor(
  path: string,
  bytes: Buffer,
  before: BigIntStats,
  after: BigIntStats,
  readAt: bigint,
): string {
  const stamp = stampOf(before);
  // Changed while it was read (these bytes may be of no version the stamps describe), or not a
  // regular file whose size is its content (/proc files say 0 bytes and keep their ctime).
  if (stampOf(after) !== stamp || !before.isFile() || BigInt(bytes.length) !== before.size)
    return digestOf(bytes);
  const known = hashed.get(path);
  if (known?.stamp === stamp) return known.digest;
  const digest = digestOf(bytes);
  if (readAt - before.ctimeNs > RACY_NS) {
    hashed.delete(path);
    hashed.set(path, { stamp, digest });
    if (hashed.size > KEPT) hashed.delete(hashed.keys().next().value!);
  }
  return digest;
}
