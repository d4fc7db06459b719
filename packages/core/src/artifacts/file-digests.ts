// Digests this process computed for files, kept while a file's stamp (device, inode, size, mtime,
// ctime) is what it was, as git's index does (decision 0028): on local POSIX file systems any write
// moves the ctime, which no system call sets back. A file changed within the timestamp granularity
// of the read could keep its ctime, so a file changed less than RACY_NS before its read began is
// never kept ("racy git"), nor is anything whose size is not its content (/proc files).
import type { BigIntStats } from 'node:fs';

/** How recent a change makes a file's stamp untrustworthy (well above any file system's granularity). */
const RACY_NS = 2_000_000_000n;

/** What identifies a file's version without reading it. */
export const stampOf = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

/** The clock as file times read it, for `remember`'s `readAt`. */
export const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class FileDigests {
  private readonly known = new Map<string, { stamp: string; digest: string }>();

  /** @param kept files remembered at most; the oldest is forgotten past this */
  constructor(private readonly kept = 1024) {}

  /** The digest remembered for `path`, if `stats` still describe the version it was computed from. */
  get(path: string, stats: BigIntStats): string | undefined {
    const known = this.known.get(path);
    return known?.stamp === stampOf(stats) ? known.digest : undefined;
  }

  /**
   * Remembers `digest` of the `size` bytes read, from `readAt` on, from the file `stats` describe,
   * when that stamp can be trusted.
   */
  remember(path: string, stats: BigIntStats, digest: string, size: number, readAt: bigint): void {
    if (!stats.isFile() || BigInt(size) !== stats.size || readAt - stats.ctimeNs <= RACY_NS) return;
    this.known.delete(path);
    this.known.set(path, { stamp: stampOf(stats), digest });
    if (this.known.size > this.kept) this.known.delete(this.known.keys().next().value!);
  }
}
