// The tmux session adapter: drives an interactive agent CLI (Claude Code, Codex CLI, Aider, …) in a
// tmux session, as a person at its terminal would. GAIA_GO guessed a task was done when the pane had
// looked idle for 30 s after assignment; here a task is done only when the agent went to work (busy,
// or asked for approval) after the prompt and then came back to its input prompt, or when the
// configured completion marker appears. An approval prompt is reported at once and never taken for idle.
import { setTimeout as sleep } from 'node:timers/promises';
import { BatonError } from '@baton/core';
import type { AgentProfile } from './defaults.js';
import { answerText, type DeliveryMark } from './output.js';
import { classify, type ScreenState } from './screen.js';
import { Tmux } from './tmux.js';

/** Prompts longer than this are pasted even on one line: tmux caps the size of a send-keys command. */
const LONG_PROMPT = 1000;
/** Control characters other than newline and tab would act as keys (Esc, Ctrl-C) in the agent. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** How to start and reach one agent session. */
export interface TmuxAgentOptions {
  /** The tmux session's name: letters, digits, '_' and '-'. */
  readonly session: string;
  /** The provider's profile: `resolveAgentProfile(provider, agentsConfig)`. */
  readonly profile: AgentProfile;
  /** The command to start; default: the profile's `start_command`. */
  readonly command?: string | readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The tmux server; default: the user's default server. */
  readonly tmux?: Tmux;
  /** The session's fixed size; default 200 columns by 50 rows. */
  readonly width?: number;
  readonly height?: number;
}

/** How long to wait, and a way to stop waiting. */
export interface WaitOptions {
  /** Aborting rejects the wait with BatonError `E_CANCELLED`. */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait at most; default: no limit. */
  readonly timeoutMs?: number;
}

/** What came of a delivered prompt. */
export type AgentOutcome =
  /** The agent worked and came back to its input prompt, or printed the completion marker; `output` is its answer. */
  | { readonly outcome: 'completed'; readonly output: string }
  /**
   * The agent asks for an approval or an answer; `screen` is the visible pane. The task is not done,
   * and the agent is not idle.
   */
  | { readonly outcome: 'waiting_input'; readonly screen: string }
  /** Neither within `timeoutMs`; the prompt stays delivered, and waiting again may still see it complete. */
  | { readonly outcome: 'timeout' };

interface Reading {
  readonly screen: string;
  /** What the screen shows now. */
  readonly seen: ScreenState;
  /** The pane looks idle but has not yet for `settle_ms`. */
  readonly settling: boolean;
}

function cancelled(session: string): BatonError {
  return new BatonError('E_CANCELLED', `waiting on tmux agent session '${session}' was cancelled`);
}

/** An interactive agent CLI running in a tmux session. */
export class TmuxAgent {
  readonly session: string;
  readonly profile: AgentProfile;
  readonly tmux: Tmux;
  readonly #options: TmuxAgentOptions;
  /** When the current unbroken run of idle readings began. */
  #idleSince: number | undefined;
  #lastReading: number | undefined;
  /** The prompt awaiting its outcome, and whether the agent has been seen at work on it. */
  #delivery: { readonly mark: DeliveryMark; sawWork: boolean } | undefined;
  /** The approval screen last answered with respond(), not to be reported again while it shows. */
  #answered: string | undefined;

  constructor(options: TmuxAgentOptions) {
    this.#options = options;
    this.session = options.session;
    this.profile = options.profile;
    this.tmux = options.tmux ?? new Tmux();
  }

  /**
   * Starts the agent in a new detached tmux session of fixed size.
   * @throws BatonError `E_INVALID_STATE` if the session already exists; `E_INVALID_OPTION` if there is
   *   no command to start; `E_NOT_FOUND` if tmux is not installed.
   */
  async start(): Promise<void> {
    const command = this.#options.command ?? this.profile.start_command;
    if (command === undefined) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `no command starts provider '${this.profile.provider}': set providers.${this.profile.provider}.start_command in agents.yaml`,
      );
    }
    if (await this.tmux.hasSession(this.session)) {
      throw new BatonError(
        'E_INVALID_STATE',
        `tmux session '${this.session}' already exists: pick another session name, or stop the old session first`,
      );
    }
    await this.tmux.newSession(this.session, {
      command,
      width: this.#options.width ?? 200,
      height: this.#options.height ?? 50,
      cwd: this.#options.cwd,
      env: this.#options.env,
    });
  }

  /** Whether the agent's tmux session still exists. */
  isRunning(): Promise<boolean> {
    return this.tmux.hasSession(this.session);
  }

  /** The visible pane, as text. @throws BatonError `E_NOT_FOUND` when the session is gone. */
  screen(): Promise<string> {
    return this.tmux.capture(this.session, 'screen');
  }

  /** One reading of the screen. Idle counts only after an unbroken run of idle readings over `settle_ms`. */
  async #read(): Promise<Reading> {
    const screen = await this.screen();
    const seen = classify(screen, this.profile.patterns);
    const now = performance.now();
    // A long gap between two readings could hide a busy spell, so it breaks the idle run.
    const unbroken =
      this.#lastReading !== undefined && now - this.#lastReading <= Math.max(2 * this.profile.poll_ms, 500);
    this.#lastReading = now;
    if (seen !== 'idle') {
      this.#idleSince = undefined;
      return { screen, seen, settling: false };
    }
    if (this.#idleSince === undefined || !unbroken) this.#idleSince = now;
    return { screen, seen, settling: now - this.#idleSince < this.profile.settle_ms };
  }

  async #pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch (err) {
      if (signal?.aborted) throw cancelled(this.session);
      throw err;
    }
  }

  /**
   * What the agent is doing: `waiting_input` (an approval or question shows), `busy`, `idle` (its input
   * prompt shows and has for `settle_ms`), or `unknown` (no pattern matches). While the pane has looked
   * idle for less than `settle_ms`, this keeps reading it, so it takes up to `settle_ms`.
   * @throws BatonError `E_NOT_FOUND` when the session is gone; `E_CANCELLED` when `signal` aborts.
   */
  async state(signal?: AbortSignal): Promise<ScreenState> {
    for (;;) {
      if (signal?.aborted) throw cancelled(this.session);
      const r = await this.#read();
      if (!r.settling) return r.seen;
      await this.#pause(this.profile.poll_ms, signal);
    }
  }

  /**
   * Waits until the agent is idle.
   * @throws BatonError `E_INVALID_STATE` when it waits for an answer instead (answer with respond()
   *   first), `E_TIMEOUT` after `timeoutMs`, `E_CANCELLED`, or `E_NOT_FOUND` when the session is gone.
   */
  async waitUntilIdle(options: WaitOptions = {}): Promise<void> {
    const deadline = performance.now() + (options.timeoutMs ?? Infinity);
    for (;;) {
      const state = await this.state(options.signal);
      if (state === 'idle') return;
      if (state === 'waiting_input') {
        throw new BatonError(
          'E_INVALID_STATE',
          `tmux agent session '${this.session}' is waiting for an answer (an approval prompt), not for a new prompt: answer it first`,
          { details: { session: this.session, screen: await this.screen() } },
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new BatonError(
          'E_TIMEOUT',
          `tmux agent session '${this.session}' was not idle within ${options.timeoutMs} ms (it looked ${state})`,
        );
      }
      await this.#pause(Math.min(this.profile.poll_ms, left), options.signal);
    }
  }

  /**
   * Hands the agent a prompt: waits until it is idle, types the prompt (a multi-line or long prompt is
   * pasted, bracketed unless the profile says `paste: plain`, so that its newlines do not submit it
   * early), then presses the profile's submit keys. waitForOutcome() then tells what came of it.
   * @throws BatonError `E_INPUT_INVALID` for an empty prompt or one with control characters; the
   *   errors of waitUntilIdle() otherwise.
   */
  async deliver(prompt: string, options: WaitOptions = {}): Promise<void> {
    const text = prompt.replace(/\r\n?/g, '\n').trimEnd();
    if (text.trim() === '') {
      throw new BatonError('E_INPUT_INVALID', `empty prompt for tmux agent session '${this.session}'`);
    }
    if (CONTROL.test(text)) {
      throw new BatonError(
        'E_INPUT_INVALID',
        `the prompt for tmux agent session '${this.session}' contains control characters, which the agent would read as keys: remove them`,
      );
    }
    await this.waitUntilIdle(options);
    const before = (await this.tmux.capture(this.session, 'history')).split('\n');
    if (text.includes('\n') || text.length > LONG_PROMPT) {
      await this.tmux.paste(this.session, text, this.profile.paste === 'bracketed');
    } else {
      await this.tmux.sendText(this.session, text);
    }
    if (this.profile.submit_delay_ms > 0) await sleep(this.profile.submit_delay_ms);
    await this.tmux.sendKeys(this.session, this.profile.submit_keys);
    this.#delivery = { mark: { before, prompt: text }, sawWork: false };
    // The idle prompt seen before the delivery says nothing about the agent after it.
    this.#idleSince = undefined;
    this.#answered = undefined;
  }

  /**
   * Answers what the agent asks (an approval prompt): types `text` literally, and presses the submit
   * keys when `submit` is set (Claude Code takes "1" alone; Aider wants "y" and Enter). The approval
   * screen answered is not reported again by waitForOutcome() while it still shows.
   */
  async respond(text: string, options: { submit?: boolean } = {}): Promise<void> {
    const screen = await this.screen();
    if (text !== '') await this.tmux.sendText(this.session, text);
    if (options.submit === true) await this.tmux.sendKeys(this.session, this.profile.submit_keys);
    this.#answered = screen;
  }

  /**
   * Waits for the outcome of the delivered prompt, reading the screen every `poll_ms`:
   * - `waiting_input` as soon as an approval prompt shows (call again once it is answered);
   * - `completed` when the agent, having been busy (or asked for approval) since the delivery, is idle
   *   again for `settle_ms`, or as soon as the completion marker appears after the prompt; `output` is
   *   the pane text between the prompt and the agent's new input prompt;
   * - `timeout` after `timeoutMs`.
   *
   * An agent that finishes between two readings, never seen busy, does not complete: give such an
   * agent a completion marker, or a shorter `poll_ms`.
   * @throws BatonError `E_INVALID_STATE` when no prompt was delivered; `E_NOT_FOUND` when the session
   *   is gone (the agent exited); `E_CANCELLED` when `signal` aborts.
   */
  async waitForOutcome(options: WaitOptions = {}): Promise<AgentOutcome> {
    const delivery = this.#delivery;
    if (delivery === undefined) {
      throw new BatonError(
        'E_INVALID_STATE',
        `no prompt awaits an outcome in tmux agent session '${this.session}': deliver() one first`,
      );
    }
    const { patterns, completion_marker: marker } = this.profile;
    const deadline = performance.now() + (options.timeoutMs ?? Infinity);
    for (;;) {
      if (options.signal?.aborted) throw cancelled(this.session);
      const r = await this.#read();
      if (r.seen === 'waiting_input' || r.seen === 'busy') delivery.sawWork = true;
      if (r.seen === 'waiting_input' && r.screen !== this.#answered)
        return { outcome: 'waiting_input', screen: r.screen };
      if (r.seen !== 'waiting_input') this.#answered = undefined;
      const idleAgain = r.seen === 'idle' && !r.settling && delivery.sawWork;
      if (marker !== undefined || idleAgain) {
        const pane = await this.tmux.capture(this.session, 'history');
        const output =
          (marker === undefined ? undefined : answerText(delivery.mark, pane, patterns, marker)) ??
          (idleAgain ? answerText(delivery.mark, pane, patterns) : undefined);
        if (output !== undefined) {
          this.#delivery = undefined;
          return { outcome: 'completed', output };
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return { outcome: 'timeout' };
      await this.#pause(Math.min(this.profile.poll_ms, left), options.signal);
    }
  }

  /** Ends the agent and its tmux session; stopping a session that is already gone is not an error. */
  async stop(): Promise<void> {
    this.#delivery = undefined;
    await this.tmux.killSession(this.session);
  }
}
