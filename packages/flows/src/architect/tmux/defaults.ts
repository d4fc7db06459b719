// The built-in profiles of the agent CLIs Baton knows, and how agents.yaml overrides them key by key.
// The patterns describe the screens these CLIs draw (Claude Code's Ink UI, Codex's ratatui UI,
// Aider's prompt_toolkit prompt), as read with `tmux capture-pane -p -J` (no colours, trailing
// spaces trimmed). They are matched against the visible pane only; see screen.ts for the rules.
import type { AgentProviderConfig, AgentsConfig } from '../../config/kinds/agents.js';

/** The three pattern lists of a provider. */
export interface ScreenPatterns {
  readonly idle: readonly string[];
  readonly busy: readonly string[];
  readonly waiting_input: readonly string[];
}

/** What the tmux adapter needs to drive one agent CLI: its built-in profile with agents.yaml laid over it. */
export interface AgentProfile {
  readonly provider: string;
  /** The command that starts the agent; none for a provider with no built-in profile and none configured. */
  readonly start_command?: string | readonly string[];
  readonly patterns: ScreenPatterns;
  readonly completion_marker?: string;
  readonly submit_keys: readonly string[];
  readonly paste: 'bracketed' | 'plain';
  readonly poll_ms: number;
  readonly settle_ms: number;
  readonly submit_delay_ms: number;
}

// Answers every line-based CLI asks for; anchored at the line end so an answered question
// ("… [Y/n] y") no longer matches.
const YES_NO = ['\\(y/n\\)\\s*$', '\\[Y/n\\]\\s*$', '\\[y/N\\]\\s*$'];

/** The providers with a built-in profile. */
export const BUILTIN_PROVIDERS = ['claude', 'codex', 'aider'] as const;

/**
 * The built-in profiles. Sources: the screens these CLIs draw, as their public repositories'
 * snapshot tests and users' status-detection scripts show them.
 * - Claude Code: the input box (`│ >`, or a bare `>` / `❯` line in newer versions) with
 *   `? for shortcuts` under it, the spinner line `✻ Pondering… (3s · esc to interrupt)` above the box
 *   while it works, and permission dialogs (`Do you want to proceed?` / `Do you want to make this
 *   edit to …?` over `❯ 1. Yes`) that replace the box.
 * - Codex CLI: the composer `› …` with `? for shortcuts` (older: `⏎ send`), the status line
 *   `Working (12s • esc to interrupt)`, and approval overlays (`Would you like to run the following
 *   command?`, `Press enter to confirm or esc to cancel`; older: `Allow command?`, `Apply changes?`).
 * - Aider: the prompt `> ` (or `diff> `, `architect> `, `ask multi> `), the `Waiting for <model>`
 *   spinner and repo-map scan, and `confirm_ask` questions ending `(Y)es/(N)o … [Yes]: `.
 */
export const BUILTIN_AGENT_PROFILES: Readonly<Record<(typeof BUILTIN_PROVIDERS)[number], AgentProfile>> = {
  claude: {
    provider: 'claude',
    start_command: 'claude',
    patterns: {
      idle: ['^\\s*│\\s*>(\\s|$)', '^\\s*[>❯]\\s*$', '\\? for shortcuts'],
      busy: ['esc to interrupt', '^\\s*[·✢✳✶✻✽]\\s+\\S+…'],
      waiting_input: [
        'Do you want to',
        '❯\\s*1\\.\\s*Yes',
        'No, and tell Claude what to do differently',
        'Allow this',
        'Do you trust the files in this folder\\?',
        ...YES_NO,
      ],
    },
    submit_keys: ['Enter'],
    paste: 'bracketed',
    poll_ms: 250,
    settle_ms: 1500,
    // Claude Code reads a paste in chunks; an Enter that arrives with the paste can land inside it.
    submit_delay_ms: 150,
  },
  codex: {
    provider: 'codex',
    start_command: 'codex',
    patterns: {
      idle: ['^›(\\s|$)', '\\? for shortcuts', '⏎ send'],
      busy: ['[Ee]sc (twice )?to interrupt'],
      waiting_input: [
        'Would you like to .*\\?',
        'Press [Ee]nter to confirm or [Ee]sc to',
        '^\\s*[›>]\\s*1\\.\\s*(Yes|Approve)',
        'Allow command\\?',
        'Apply changes\\?',
        ...YES_NO,
      ],
    },
    submit_keys: ['Enter'],
    paste: 'bracketed',
    poll_ms: 250,
    settle_ms: 1000,
    submit_delay_ms: 100,
  },
  aider: {
    provider: 'aider',
    start_command: 'aider',
    patterns: {
      idle: ['^\\w*( ?multi)?>\\s*$'],
      busy: ['Waiting for ', 'Updating repo map', '[░█]{2,}'],
      waiting_input: ['\\(Y\\)es/\\(N\\)o.*\\]:\\s*$', ...YES_NO],
    },
    submit_keys: ['Enter'],
    paste: 'bracketed',
    poll_ms: 250,
    settle_ms: 1000,
    submit_delay_ms: 50,
  },
};

/** The profile of a provider with no built-in one: common prompts and approvals, and cautious timing. */
export const GENERIC_AGENT_PROFILE: Omit<AgentProfile, 'provider'> = {
  patterns: {
    idle: ['^\\s*[>❯›]\\s*$'],
    busy: ['[Ee]sc to interrupt', '[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]'],
    waiting_input: ['Do you want to', 'Would you like to', 'Allow this', ...YES_NO],
  },
  submit_keys: ['Enter'],
  paste: 'bracketed',
  poll_ms: 250,
  settle_ms: 1500,
  submit_delay_ms: 100,
};

/**
 * The profile of `provider`: its built-in profile (or the generic one), with the provider's entry in
 * agents.yaml laid over it key by key. A pattern list in the file replaces the built-in list.
 */
export function resolveAgentProfile(provider: string, config?: AgentsConfig): AgentProfile {
  const base: Omit<AgentProfile, 'provider'> = Object.hasOwn(BUILTIN_AGENT_PROFILES, provider)
    ? BUILTIN_AGENT_PROFILES[provider as keyof typeof BUILTIN_AGENT_PROFILES]
    : GENERIC_AGENT_PROFILE;
  const over: AgentProviderConfig | undefined = config?.providers?.[provider];
  return {
    provider,
    start_command: over?.start_command ?? base.start_command,
    patterns: {
      idle: over?.patterns?.idle ?? base.patterns.idle,
      busy: over?.patterns?.busy ?? base.patterns.busy,
      waiting_input: over?.patterns?.waiting_input ?? base.patterns.waiting_input,
    },
    completion_marker: over?.completion_marker ?? base.completion_marker,
    submit_keys: over?.submit_keys ?? base.submit_keys,
    paste: over?.paste ?? base.paste,
    poll_ms: over?.poll_ms ?? base.poll_ms,
    settle_ms: over?.settle_ms ?? base.settle_ms,
    submit_delay_ms: over?.submit_delay_ms ?? base.submit_delay_ms,
  };
}
