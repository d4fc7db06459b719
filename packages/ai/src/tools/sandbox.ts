// Where tools may act: the project root (and other roots), the environment commands inherit, and
// caps on time, output and file size. Paths go through @baton/core's execution policy: resolved
// with links followed, so traversal, absolute paths and symlinks out of the roots are refused.
import { BatonError, allowedPath, executionPolicy, type ExecutionPolicy } from '@baton/core';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A directory's real path, or the path itself while it does not exist. */
function resolveReal(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

export interface SandboxOptions {
  /** The project root: relative paths start here, and permission rules match paths relative to it. */
  root: string;
  /** Further directories tools may use. */
  extraRoots?: string[];
  /** Variables commands inherit (names, or prefixes ending in `*`); default: core's short list. */
  envAllow?: string[];
  /** Per call. Default 60 s. */
  timeoutMs?: number;
  /** Output kept per command stream, and the most text a tool returns. Default 64 KiB. */
  maxOutputBytes?: number;
  /** The largest file read_file reads or write_file writes. Default 1 MiB. */
  maxFileBytes?: number;
  /** `deny` runs commands without a network (unshare -n), refusing them where that is impossible. */
  network?: 'allow' | 'deny';
  /** Whether run_command may take a shell string (`sh -c`); otherwise only an argv. Default false. */
  shell?: boolean;
  /**
   * Directories no tool may touch, whatever the rules say: Baton's own state. Default: `<root>/.baton`
   * (the store, the project's "always" answers). Add the configuration directory when it lies under
   * the root, or an agent that may write files could rewrite its own permissions.
   */
  protectedDirs?: string[];
}

export class ToolSandbox {
  readonly policy: ExecutionPolicy;
  readonly root: string;
  readonly maxFileBytes: number;
  readonly maxOutputBytes: number;
  readonly shell: boolean;
  private readonly protectedDirs: string[];

  constructor(options: SandboxOptions) {
    this.policy = executionPolicy({
      roots: [options.root, ...(options.extraRoots ?? [])],
      envAllow: options.envAllow,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxOutputBytes: options.maxOutputBytes ?? 64 * 1024,
      network: options.network ?? 'allow',
    });
    this.root = this.policy.roots[0]!;
    this.maxFileBytes = options.maxFileBytes ?? 1 << 20;
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.shell = options.shell ?? false;
    this.protectedDirs = (options.protectedDirs ?? [join(this.root, '.baton')]).map((d) => resolveReal(d));
  }

  /**
   * A path a tool was given, where it really is (links followed), and as the permission rules see it:
   * relative to the root, `/`-separated. Throws E_POLICY_DENIED outside the roots.
   */
  resolve(path: string): { real: string; rel: string } {
    const real = allowedPath(this.policy, isAbsolute(path) ? path : resolve(this.root, path));
    for (const dir of this.protectedDirs)
      if (real === dir || real.startsWith(dir + sep))
        throw new BatonError(
          'E_POLICY_DENIED',
          `${path} is Baton's own state (${dir}): no tool may read or change it`,
        );
    const rel = relative(this.root, real).split(sep).join('/');
    return { real, rel: rel === '' ? '.' : rel };
  }

  /** Text cut to the output cap, saying so. */
  cap(text: string): string {
    if (Buffer.byteLength(text) <= this.maxOutputBytes) return text;
    const cut = Buffer.from(text).subarray(0, this.maxOutputBytes).toString('utf8');
    return `${cut}\n[output cut at ${this.maxOutputBytes} bytes]`;
  }
}
