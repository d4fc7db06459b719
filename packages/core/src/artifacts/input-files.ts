// Input files a run declares it read (ctx.artifacts.input / read / readMany): their bytes and digest.
// A sweep's runs read the same files again and again; hashing a large bar file on every run costs
// as much as reading it, so a file unchanged since this process hashed it keeps its digest
// (file-digests.ts, decision 0028). `baton artifacts verify` always hashes the stored bytes.
import type { BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { BatonError } from '../errors.js';
import { FileDigests, nowNs, stampOf } from './file-digests.js';
import { checkArtifactName, digestOf } from './content.js';

const hashed = new FileDigests();

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
    const readAt = nowNs();
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
  // Changed while it was read: these bytes may be of no version the stamps describe.
  if (stampOf(after) !== stampOf(before)) return digestOf(bytes);
  const known = hashed.get(path, before);
  if (known !== undefined) return known;
  const digest = digestOf(bytes);
  hashed.remember(path, before, digest, bytes.length, readAt);
  return digest;
}
