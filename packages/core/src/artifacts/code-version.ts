// Which code a process runs, for run manifests: the git commit of its working directory and
// whether the tree has uncommitted changes, or, outside a git tree, the nearest package.json's
// name and version. Read once per process, the first time a run uses the ledger.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type CodeVersion =
  | { readonly git: { readonly commit: string; readonly dirty: boolean } }
  | { readonly package: { readonly name: string; readonly version: string } }
  | { readonly unknown: string };

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

function nearestPackage(from: string): { name: string; version: string } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof pkg.name === 'string' && typeof pkg.version === 'string')
          return { name: pkg.name, version: pkg.version };
      } catch {
        // an unreadable package.json says nothing about the version; look further up
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The code version of `cwd`, as read now. */
export function readCodeVersion(cwd: string): CodeVersion {
  const commit = git(['rev-parse', 'HEAD'], cwd)?.trim();
  if (commit && /^[0-9a-f]{40,64}$/.test(commit)) {
    // tracked files only: build output and data directories that git ignores do not make a tree dirty
    const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
    return { git: { commit, dirty: status === undefined || status.trim().length > 0 } };
  }
  const pkg = nearestPackage(cwd);
  if (pkg) return { package: pkg };
  return { unknown: `${cwd} is neither in a git tree nor under a package.json` };
}

let cached: CodeVersion | undefined;

/** This process's code version (its working directory's), read once. */
export function processCodeVersion(): CodeVersion {
  return (cached ??= readCodeVersion(process.cwd()));
}
