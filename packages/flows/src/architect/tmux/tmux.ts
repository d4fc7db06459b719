// A thin wrapper over the tmux command. tmux runs with execFile and an argument list, never a shell
// string, and every session is addressed as `=name:` so that tmux matches the name exactly (a bare
// `-t name` also matches any session whose name starts with it).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { BatonError } from '@baton/core';

/** Session and socket names: letters, digits, `_` and `-` (tmux reserves `:` and `.` in targets). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Most milliseconds one tmux command may take; tmux answers in a few. */
const COMMAND_TIMEOUT_MS = 10_000;

/** How to reach a tmux server. */
export interface TmuxOptions {
  /** The server's socket name (`tmux -L <name>`); default: the user's default server. */
  readonly socket?: string;
  /** The configuration file of a server that this wrapper starts (`tmux -f`); tests pass /dev/null. */
  readonly configFile?: string;
  /** The tmux program; default `tmux` on PATH. */
  readonly binary?: string;
}

/** A new session's program, size, directory and environment. */
export interface NewSessionOptions {
  /** A shell command line (run by the shell in the session), or a program and its arguments (run as is). */
  readonly command: string | readonly string[];
  /** Columns and rows of the session's window; fixed, so that screens look the same every time. */
  readonly width: number;
  readonly height: number;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Lines of a pane to capture: the visible screen, or the scrollback too. */
export type CaptureRange = 'screen' | 'history';

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `tmux ${kind} name '${name}' is not valid: use 1 to 100 letters, digits, '_' and '-', starting with a letter, digit or '_'`,
    );
  }
}

/**
 * True when tmux says the target session, or the whole server, is not there. A server exits with its
 * last session, so a command racing that exit sees it go ("server exited unexpectedly", "no current target").
 */
const MISSING = [
  "can't find session",
  'session not found',
  'no server running',
  'error connecting to',
  'server exited unexpectedly',
  'lost server',
  'no current target',
];
function isMissing(stderr: string): boolean {
  return MISSING.some((m) => stderr.includes(m));
}

/** One tmux server, driven through the tmux command. */
export class Tmux {
  readonly socket: string | undefined;
  readonly #prefix: string[];
  readonly #binary: string;

  constructor(options: TmuxOptions = {}) {
    if (options.socket !== undefined) checkName('socket', options.socket);
    this.socket = options.socket;
    this.#binary = options.binary ?? 'tmux';
    this.#prefix = [
      ...(options.socket === undefined ? [] : ['-L', options.socket]),
      ...(options.configFile === undefined ? [] : ['-f', options.configFile]),
    ];
  }

  /**
   * Runs tmux with `args`, and `input` on its stdin.
   * @throws BatonError `E_NOT_FOUND` when tmux is not installed, or when `session` (the session the
   *   command targets) does not exist; `E_INVALID_STATE` when tmux fails otherwise.
   */
  run(args: readonly string[], options: { input?: string; session?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.#binary,
        [...this.#prefix, ...args],
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            return reject(
              new BatonError(
                'E_NOT_FOUND',
                `tmux is not installed ('${this.#binary}' was not found on PATH): install it (Debian: apt-get install tmux) to run tmux agent sessions`,
                { cause: err },
              ),
            );
          }
          if (options.session !== undefined && isMissing(stderr)) {
            return reject(
              new BatonError(
                'E_NOT_FOUND',
                `tmux session '${options.session}' does not exist${this.#where()}: it was never started, or the program in it exited`,
                { cause: err, details: { session: options.session, socket: this.socket } },
              ),
            );
          }
          reject(
            new BatonError(
              'E_INVALID_STATE',
              `tmux ${args[0]} failed${this.#where()}: ${stderr.trim() || err.message}`,
              { cause: err },
            ),
          );
        },
      );
      // tmux reads stdin only for load-buffer, and may exit before it does: its exit status tells.
      child.stdin?.on('error', () => {});
      child.stdin?.end(options.input);
    });
  }

  #where(): string {
    return this.socket === undefined ? '' : ` (tmux server '${this.socket}')`;
  }

  /** Starts a detached session running `options.command`; it ends when the command exits. */
  async newSession(session: string, options: NewSessionOptions): Promise<void> {
    checkName('session', session);
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => {
      if (!ENV_NAME.test(k)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `environment variable name '${k}' is not valid for session '${session}'`,
        );
      }
      return ['-e', `${k}=${v}`];
    });
    const given = typeof options.command === 'string' ? [options.command] : [...options.command];
    if (given.length === 0 || given[0] === '') {
      throw new BatonError('E_INVALID_OPTION', `no command to start in tmux session '${session}'`);
    }
    // tmux hands a single argument to `sh -c`; a list means "no shell", so a one-item list goes through env.
    const command =
      typeof options.command !== 'string' && given.length === 1 ? ['/usr/bin/env', ...given] : given;
    await this.run([
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      String(options.width),
      '-y',
      String(options.height),
      ...(options.cwd === undefined ? [] : ['-c', options.cwd]),
      ...env,
      // `--` so that a command starting with '-' is not read as an option.
      '--',
      ...command,
    ]);
  }

  /** Whether the session exists (false too when no server runs). */
  async hasSession(session: string): Promise<boolean> {
    checkName('session', session);
    try {
      await this.run(['has-session', '-t', `=${session}`], { session });
      return true;
    } catch (err) {
      if (err instanceof BatonError && err.code === 'E_NOT_FOUND' && err.details?.session === session)
        return false;
      throw err;
    }
  }

  /** Types `text` into the session's pane as literal characters (`send-keys -l`), never as key names. */
  async sendText(session: string, text: string): Promise<void> {
    checkName('session', session);
    await this.run(['send-keys', '-t', `=${session}:`, '-l', '--', text], { session });
  }

  /** Presses keys by their tmux names (`Enter`, `C-c`, `Escape`, …). */
  async sendKeys(session: string, keys: readonly string[]): Promise<void> {
    checkName('session', session);
    if (keys.length === 0) return;
    await this.run(['send-keys', '-t', `=${session}:`, '--', ...keys], { session });
  }

  /**
   * Pastes `text` into the session's pane through a tmux buffer (`load-buffer -`, then `paste-buffer`).
   * With `bracketed`, tmux wraps it in bracketed-paste codes when the program asked for them, so the
   * program reads one paste and its newlines do not submit early.
   */
  async paste(session: string, text: string, bracketed: boolean): Promise<void> {
    checkName('session', session);
    // A buffer of its own per paste, so two pastes at once cannot swap texts.
    const buffer = `baton-${randomUUID()}`;
    await this.run(['load-buffer', '-b', buffer, '-'], { input: text });
    await this.run(['paste-buffer', ...(bracketed ? ['-p'] : []), '-d', '-b', buffer, '-t', `=${session}:`], {
      session,
    });
  }

  /**
   * The text of the session's pane (`capture-pane -p -J`: wrapped lines joined, no colours), either the
   * visible screen or the scrollback and the screen. Trailing blank lines are dropped.
   */
  async capture(session: string, range: CaptureRange = 'screen'): Promise<string> {
    checkName('session', session);
    const out = await this.run(
      ['capture-pane', '-p', '-J', ...(range === 'history' ? ['-S', '-'] : []), '-t', `=${session}:`],
      { session },
    );
    return out.replace(/\s+$/, '');
  }

  /** Ends the session and the program in it. Ending a session that is already gone is not an error. */
  async killSession(session: string): Promise<void> {
    checkName('session', session);
    try {
      await this.run(['kill-session', '-t', `=${session}`], { session });
    } catch (err) {
      if (!(err instanceof BatonError && err.code === 'E_NOT_FOUND' && err.details?.session === session))
        throw err;
    }
  }

  /** Ends this wrapper's private tmux server (`socket`) and every session on it, as a test does when done. */
  async killServer(): Promise<void> {
    // Never the user's default server, with all their sessions on it.
    if (this.socket === undefined) {
      throw new BatonError(
        'E_INVALID_OPTION',
        'killServer needs a private tmux server: create the Tmux with a socket',
      );
    }
    try {
      await this.run(['kill-server'], { session: '' });
    } catch (err) {
      if (!(err instanceof BatonError && err.code === 'E_NOT_FOUND')) throw err;
    }
  }
}
