// The execution policy (seed 000's ADR-024): what a process Baton starts on a user's behalf (an
// agent session's command, a hook, later an AI tool) may touch: its working directory and the paths
// it is handed, the environment it inherits, how long it runs, how much output is kept, and the
// network. docs/security.md says what each rule enforces on Linux and what it does not.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BatonError } from '../errors.js';

export interface ExecutionPolicy {
  /** Directories a working directory or a path argument must be inside (after resolving links). */
  readonly roots: readonly string[];
  /** Variables passed through from this process's environment: names, or prefixes ending in `*`. */
  readonly envAllow: readonly string[];
  /** A run is stopped (its whole process group: SIGTERM, then SIGKILL 2 s later) after this long. */
  readonly timeoutMs: number;
  /** Output kept per stream; what is beyond is dropped and the result says so. */
  readonly maxOutputBytes: number;
  /** `deny` runs the process in a network namespace of its own (no interface but a down loopback). */
  readonly network: 'allow' | 'deny';
}

/** The variables a process gets unless the policy names others: enough to find programs and speak the locale. */
export const DEFAULT_ENV_ALLOW: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_*',
  'TERM',
  'TMPDIR',
  'TZ',
];

/** Variables a task or hook may not set: each makes a program load or run code of the setter's choosing. */
const NEVER_SET =
  /^(LD_|DYLD_)|^(NODE_OPTIONS|BASH_ENV|ENV|PYTHONSTARTUP|PYTHONPATH|PERL5OPT|RUBYOPT|GIT_EXEC_PATH|PROMPT_COMMAND)$/;

/** A policy from options, with defaults: the working directory as the only root, the default environment, 10 minutes, 1 MiB, network allowed. */
export function executionPolicy(options: Partial<ExecutionPolicy> = {}): ExecutionPolicy {
  const roots = (options.roots ?? [process.cwd()]).map((r) => {
    if (typeof r !== 'string' || r === '')
      throw new BatonError('E_INVALID_OPTION', 'policy roots must be directory paths');
    return realOrResolved(r);
  });
  if (roots.length === 0)
    throw new BatonError('E_INVALID_OPTION', 'a policy needs at least one root directory');
  const timeoutMs = options.timeoutMs ?? 600_000;
  const maxOutputBytes = options.maxOutputBytes ?? 1 << 20;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw new BatonError('E_INVALID_OPTION', `policy timeoutMs must be a positive integer, got ${timeoutMs}`);
  if (!(Number.isInteger(maxOutputBytes) && maxOutputBytes > 0))
    throw new BatonError(
      'E_INVALID_OPTION',
      `policy maxOutputBytes must be a positive integer, got ${maxOutputBytes}`,
    );
  const network = options.network ?? 'allow';
  if (network !== 'allow' && network !== 'deny')
    throw new BatonError('E_INVALID_OPTION', `policy network must be allow or deny, got ${String(network)}`);
  return { roots, envAllow: options.envAllow ?? DEFAULT_ENV_ALLOW, timeoutMs, maxOutputBytes, network };
}

/**
 * Where `path` really is: links followed. For a path that does not exist (yet), the real path of its
 * nearest existing directory plus the rest, and a dangling link is followed to where it points:
 * writing through either would land there.
 */
function realOrResolved(path: string, depth = 0): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    // not there, or a dangling link
  }
  if (depth > 40) return abs; // a loop of links: nothing can be written through it
  try {
    if (lstatSync(abs).isSymbolicLink())
      return realOrResolved(resolve(dirname(abs), readlinkSync(abs)), depth + 1);
  } catch {
    // nothing at this path
  }
  const parent = dirname(abs);
  return parent === abs ? abs : join(realOrResolved(parent, depth + 1), basename(abs));
}

/**
 * `path` resolved (links followed) when it lies inside one of the policy's roots.
 * @throws BatonError `E_POLICY_DENIED` naming the path and the roots.
 */
export function allowedPath(policy: ExecutionPolicy, path: string): string {
  const real = realOrResolved(path);
  const inside = policy.roots.some((root) => {
    const rel = relative(root, real);
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  });
  if (!inside) {
    throw new BatonError(
      'E_POLICY_DENIED',
      `${path} is outside the directories this run may use (${policy.roots.join(', ')}); add a root to the policy to allow it`,
      { details: { path, roots: policy.roots } },
    );
  }
  return real;
}

/**
 * The environment of a child: the allowed variables of this process, then `set` (refused for
 * variables that make a program load foreign code, such as LD_PRELOAD and NODE_OPTIONS).
 */
export function childEnvironment(
  policy: ExecutionPolicy,
  set: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      policy.envAllow.some((a) => (a.endsWith('*') ? name.startsWith(a.slice(0, -1)) : name === a))
    ) {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(set)) {
    if (NEVER_SET.test(name)) {
      throw new BatonError(
        'E_POLICY_DENIED',
        `the environment variable ${name} may not be set for a run: it makes programs load code of the setter's choosing`,
      );
    }
    env[name] = value;
  }
  return env;
}

let unshareWorks: boolean | undefined;
/** Whether this machine can give a process a network namespace of its own without privileges. */
export function canDenyNetwork(): boolean {
  unshareWorks ??=
    spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true'], { stdio: 'ignore' }).status === 0;
  return unshareWorks;
}

export interface PolicyRun {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Output past `maxOutputBytes` was dropped. */
  truncated: boolean;
  /** The policy's timeout stopped it. */
  timedOut: boolean;
}

/**
 * Runs `argv` under the policy: in `cwd` (which must be inside a root), with the policy's
 * environment plus `env`, `input` on stdin, stopped with its process group at the timeout.
 * @throws BatonError `E_POLICY_DENIED` before starting anything the policy refuses.
 */
export async function runUnderPolicy(
  policy: ExecutionPolicy,
  argv: readonly string[],
  options: {
    cwd?: string;
    env?: Readonly<Record<string, string>>;
    input?: string;
    /** Stops the run (its whole process group, as at the timeout) when it fires. */
    signal?: AbortSignal;
  } = {},
): Promise<PolicyRun> {
  if (argv.length === 0) throw new BatonError('E_INVALID_OPTION', 'nothing to run: the command is empty');
  const cwd = allowedPath(policy, options.cwd ?? policy.roots[0]!);
  const env = childEnvironment(policy, options.env);
  let command = argv[0]!;
  let args = argv.slice(1);
  if (policy.network === 'deny') {
    if (!canDenyNetwork()) {
      throw new BatonError(
        'E_POLICY_DENIED',
        'the policy denies network access, and this machine cannot make a network namespace without privileges (unshare --user --net failed); allow the network or enable user namespaces',
      );
    }
    [command, args] = ['unshare', ['--user', '--map-root-user', '--net', '--', command, ...args]];
  }
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out = { stdout: '', stderr: '', truncated: false, timedOut: false };
    const keep = (stream: 'stdout' | 'stderr') => (d: string) => {
      const room = policy.maxOutputBytes - Buffer.byteLength(out[stream]);
      if (Buffer.byteLength(d) <= room) out[stream] += d;
      else {
        out[stream] += Buffer.from(d).subarray(0, Math.max(0, room)).toString('utf8');
        out.truncated = true;
      }
    };
    child.stdout.setEncoding('utf8').on('data', keep('stdout'));
    child.stderr.setEncoding('utf8').on('data', keep('stderr'));
    // The whole group: a shell's children would outlive a kill of the shell alone.
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let hard: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup('SIGTERM');
      hard ??= setTimeout(() => killGroup('SIGKILL'), 2000);
    };
    const timer = setTimeout(() => {
      out.timedOut = true;
      stop();
    }, policy.timeoutMs);
    // A cancelled caller (an agent's run) takes its command with it: the group is detached, so
    // nothing else would.
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      resolvePromise({
        code: null,
        signal: null,
        ...out,
        stderr: `${argv[0]} could not run: ${err.message}`,
      });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      if (hard) clearTimeout(hard);
      killGroup('SIGKILL'); // what it left running in its group goes with it
      resolvePromise({ code, signal, ...out });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
