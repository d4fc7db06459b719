// The `agents` kind (agents.yaml): how the tmux adapter drives each interactive CLI agent (Claude
// Code, Codex CLI, Aider, …): how to start it, how to read its screen, how to hand it a prompt.
// Every key is optional: a file overrides the built-in profile (architect/tmux/defaults.ts) key by key.
import { z } from 'zod';

/**
 * The flags every screen pattern is compiled with. `m` lets `^` and `$` anchor at line ends, which is
 * how most patterns say "a line that is only the prompt".
 */
export const SCREEN_PATTERN_FLAGS = 'm';

/** A regular expression given as a string; it must compile, with the flags the classifier uses. */
const regex = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, SCREEN_PATTERN_FLAGS);
    } catch (err) {
      const reason =
        err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
      ctx.addIssue({
        code: 'custom',
        message: `'${source}' is not a valid regular expression (${reason}); write a JavaScript regex, escaping ( ) [ ] ? * + . with a backslash to match them literally`,
      });
    }
  });

const patternList = z.array(regex);

const patterns = z
  .strictObject({
    idle: patternList
      .optional()
      .describe('The agent waits for a prompt: its input line or box (e.g. "^\\s*│\\s*>", "^> ?$")'),
    busy: patternList
      .optional()
      .describe('The agent is working: a spinner or status line (e.g. "esc to interrupt")'),
    waiting_input: patternList
      .optional()
      .describe(
        'The agent waits for an answer, such as an approval ("Do you want to", "\\(y/n\\)", "Allow this", "\\[Y/n\\]"). Wins over busy and idle: a session waiting for approval is never idle',
      ),
  })
  .describe(
    'Screen patterns (JavaScript regular expressions, multi-line mode) matched against the visible pane. A list replaces the built-in one',
  );

const provider = z
  .strictObject({
    start_command: z
      .union([
        z.string().min(1).describe('A shell command line, run by the shell in the new tmux session'),
        z.array(z.string()).min(1).describe('A program and its arguments, run directly with no shell'),
      ])
      .optional()
      .describe(
        'The command that starts the agent in its tmux session (claude, codex, aider --model sonnet, …)',
      ),
    patterns: patterns.optional(),
    completion_marker: regex
      .optional()
      .describe(
        'A regex that means "done" when it appears after the delivered prompt, even before the pane is idle again',
      ),
    submit_keys: z
      .array(
        z
          .string()
          .regex(/^\S+$/, 'a tmux key name has no spaces (Enter, C-m, Escape, M-Enter)')
          .describe('A tmux key name (Enter, C-m, Escape, M-Enter, …)'),
      )
      .min(1)
      .optional()
      .describe('Keys pressed after the prompt is typed or pasted, to submit it (built-in: [Enter])'),
    paste: z
      .enum(['bracketed', 'plain'])
      .optional()
      .describe(
        'How long or multi-line prompts are pasted: bracketed (the agent sees one paste, so newlines do not submit early) or plain',
      ),
    poll_ms: z
      .number()
      .int()
      .min(10)
      .optional()
      .describe('Milliseconds between two reads of the screen while waiting'),
    settle_ms: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Milliseconds the pane must look idle, without a break, before the agent counts as idle'),
    submit_delay_ms: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'Milliseconds between pasting a prompt and pressing the submit keys, for agents that need to take in the paste first',
      ),
  })
  .describe('How to drive one agent CLI');

/**
 * Schema of `agents.yaml`: per agent provider (claude, codex, aider, or any other name), the command
 * that starts it in tmux, the screen patterns that tell idle, busy and waiting-for-approval apart, an
 * optional completion marker, how a prompt is submitted and pasted, and how often and how long the
 * screen is watched. Built-in profiles exist for claude, codex and aider; a file overrides them key by key.
 */
export const agentsSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    providers: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a provider name uses letters, digits, and . _ -'),
        provider,
      )
      .optional()
      .describe('Agent CLIs by provider name (claude, codex, aider, …)'),
  })
  .describe('Interactive agent CLIs driven through tmux (agents.yaml)');

/** The validated content of `agents.yaml`: how each agent CLI is started, read and prompted. */
export type AgentsConfig = z.output<typeof agentsSchema>;

/** One provider's entry in `agents.yaml`. */
export type AgentProviderConfig = NonNullable<AgentsConfig['providers']>[string];
