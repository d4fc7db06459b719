// Which code a process runs, for run manifests: the git commit of its working directory and
// whether the tree has uncommitted changes, or, outside a git tree, the nearest package.json's
// name and version. Read once per process (two git commands, run asynchronously), the first time
// a run uses the ledger.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type CodeVersion =
  | { readonly git: { readonly commit: string; readonly dirty: boolean } }
  | { readonly package: { readonly name: string; readonly version: string } }
  | { readonly unknown: string };

const run = promisify(execFile);

async function git(args: string[], cwd: string): Promise<string | undefined> {
  try {
    return (await run('git', args, { cwd, encoding: 'utf8', timeout: 5000 })).stdout;
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
export async function readCodeVersion(cwd: string): Promise<CodeVersion> {
  const commit = (await git(['rev-parse', 'HEAD'], cwd))?.trim();
  if (commit && /^[0-9a-f]{40,64}$/.test(commit)) {
    // tracked files only: build output and data directories that git ignores do not make a tree dirty
    const status = await git(['status', '--porcelain', '--untracked-files=no'], cwd);
    return { git: { commit, dirty: status === undefined || status.trim().length > 0 } };
  }
  const pkg = nearestPackage(cwd);
  if (pkg) return { package: pkg };
  return { unknown: `${cwd} is neither in a git tree nor under a package.json` };
}

let cached: Promise<CodeVersion> | undefined;

/** This process's code version (its working directory's), read once, without blocking the process. */
export function processCodeVersion(): Promise<CodeVersion> {
  return (cached ??= readCodeVersion(process.cwd()));
}
