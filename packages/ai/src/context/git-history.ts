// Git's signals for ranking: how recently a file changed, and which files change together with the
// files a query or session names (co-change, as a reviewer would guess "this usually comes with
// that"). Read once from `git log`; a directory outside git simply has none.
import { execFileSync } from 'node:child_process';

/** A commit, as the files it changed. */
export interface Commit {
  readonly files: readonly string[];
}

/** Commits that touch more files than this say little about which files belong together. */
const MAX_COCHANGE_FILES = 30;
/** A change this many commits back counts half as much as one in the newest commit. */
const RECENCY_HALF_LIFE_COMMITS = 20;

export class GitHistory {
  /** The index (0: newest) of the newest commit that changed each file. */
  private readonly last = new Map<string, number>();
  private readonly touching = new Map<string, number[]>();

  /** `commits` newest first. */
  constructor(private readonly commits: readonly Commit[]) {
    commits.forEach((c, i) => {
      for (const f of c.files) {
        if (!this.last.has(f)) this.last.set(f, i);
        const list = this.touching.get(f);
        if (list) list.push(i);
        else this.touching.set(f, [i]);
      }
    });
  }

  static readonly empty = new GitHistory([]);

  get size(): number {
    return this.commits.length;
  }

  /**
   * 1 for a file changed in the newest commit, halving every 20 commits back; 0 if never changed.
   * Counted in commits, not days, so that a busy week and a quiet month weigh alike.
   */
  recency(path: string): number {
    const i = this.last.get(path);
    return i === undefined ? 0 : 0.5 ** (i / RECENCY_HALF_LIFE_COMMITS);
  }

  /**
   * For each file, how often it changed together with the seeds: each commit touching a seed adds
   * the seed's weight ÷ the commit's size to the other files it touched.
   */
  coChange(seeds: ReadonlyMap<string, number>): Map<string, number> {
    const scores = new Map<string, number>();
    for (const [seed, weight] of seeds) {
      for (const i of this.touching.get(seed) ?? []) {
        const files = this.commits[i]!.files;
        if (files.length > MAX_COCHANGE_FILES) continue;
        for (const f of files) {
          if (f === seed) continue;
          scores.set(f, (scores.get(f) ?? 0) + weight / files.length);
        }
      }
    }
    return scores;
  }
}

/**
 * The last `limit` non-merge commits reachable from `rev` in the git work tree at `root`, newest
 * first; empty when `root` is not in a git repository or git is missing.
 */
export function readGitLog(root: string, options: { rev?: string; limit?: number } = {}): Commit[] {
  let out: string;
  try {
    out = execFileSync(
      'git',
      [
        '-C',
        root,
        'log',
        '--no-merges',
        '--relative',
        '--format=%x00',
        '--name-only',
        `-n${options.limit ?? 2000}`,
        options.rev ?? 'HEAD',
        '--',
      ],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } catch {
    return [];
  }
  return parseGitLog(out);
}

/** Parses `git log --format=%x00 --name-only` output: one commit per NUL, its files one per line. */
export function parseGitLog(text: string): Commit[] {
  return text
    .split('\0')
    .slice(1)
    .map((chunk) => ({ files: chunk.split('\n').filter(Boolean) }));
}
