// Input files' digests: kept while a file's stamp is unchanged, never stale.
import { describe, it, expect, vi, beforeEach } from 'vitest';
import { mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

// Counts the hashing input-files.ts does; the digests are the real ones.
vi.mock('../src/artifacts/content.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/artifacts/content.js')>();
  return { ...actual, digestOf: vi.fn(actual.digestOf) };
});
const { digestOf } = await import('../src/artifacts/content.js');
const { readInputFile } = await import('../src/artifacts/input-files.js');

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const hashes = () => vi.mocked(digestOf).mock.calls.length;

/** A file last changed over two seconds ago, as its ctime says: written, then waited for. */
async function settledFile(content: string): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'baton-input-')), 'bars.csv');
  writeFileSync(path, content);
  await new Promise((r) => setTimeout(r, 2100));
  return path;
}

describe('input files', () => {
  beforeEach(() => {
    vi.mocked(digestOf).mockClear();
  });

  it('hashes an unchanged file once, and again after any write, even one that keeps its size and mtime', async () => {
    const path = await settledFile('a,1\n');
    const first = await readInputFile(path);
    expect(first.digest).toBe(sha('a,1\n'));
    expect(first.bytes.toString()).toBe('a,1\n');
    expect(hashes()).toBe(1);
    const again = await readInputFile(path);
    expect(again.digest).toBe(first.digest);
    expect(hashes()).toBe(1);
    // Rewritten in place: same size, mtime set back. The ctime moved, so it is hashed again.
    const { atime, mtime } = statSync(path);
    writeFileSync(path, 'b,2\n');
    utimesSync(path, atime, mtime);
    const changed = await readInputFile(path);
    expect(changed.bytes.toString()).toBe('b,2\n');
    expect(changed.digest).toBe(sha('b,2\n'));
    expect(hashes()).toBe(2);
  });

  it('hashes a file changed within the last seconds on every read (its stamp may not show a change)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'baton-input-')), 'fresh.csv');
    writeFileSync(path, 'x\n');
    expect((await readInputFile(path)).digest).toBe(sha('x\n'));
    expect((await readInputFile(path)).digest).toBe(sha('x\n'));
    expect(hashes()).toBe(2);
  });

  it.skipIf(process.platform !== 'linux')(
    'never keeps the digest of a file whose size is not its content (/proc)',
    async () => {
      await readInputFile('/proc/self/status');
      await new Promise((r) => setTimeout(r, 2100));
      vi.mocked(digestOf).mockClear();
      const a = await readInputFile('/proc/self/status');
      const b = await readInputFile('/proc/self/status');
      expect(a.digest).toBe(sha(a.bytes.toString()));
      expect(b.digest).toBe(sha(b.bytes.toString()));
      expect(hashes()).toBe(2);
    },
  );

  it('refuses a file it cannot read, naming it and the working directory', async () => {
    await expect(readInputFile('no/such/bars.csv')).rejects.toThrow(
      `cannot read input file no/such/bars.csv: ENOENT; declare a file the run reads, with a path from its working directory (${process.cwd()})`,
    );
    await expect(readInputFile('')).rejects.toThrow('an artifact name must be 1 to 200 characters');
  });
});
