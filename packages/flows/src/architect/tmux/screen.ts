// Reads an agent's screen: is it waiting for an answer, working, or waiting for a prompt?
// GAIA_GO's assigner took any quiet pane for idle, so a session blocked on an approval prompt was
// given more work. Here an approval wins over everything else, and a quiet screen with no known
// prompt is 'unknown', not idle.
import { BatonError } from '@baton/core';
import { SCREEN_PATTERN_FLAGS } from '../../config/kinds/agents.js';
import type { ScreenPatterns } from './defaults.js';

/** What an agent's screen shows. */
export type ScreenState = 'waiting_input' | 'busy' | 'idle' | 'unknown';

interface Scan {
  /** Line of the agent's input prompt: the last idle match on a line no approval dialog draws; -1 if none. */
  readonly promptLine: number;
  /** Whether an approval prompt shows at or below the input prompt. */
  readonly waiting: boolean;
  readonly busy: boolean;
}

const compiled = new Map<string, RegExp>();

/** The pattern compiled once (with the global flag, to find every match); a bad one is a config error. */
function regex(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    try {
      re = new RegExp(source, `${SCREEN_PATTERN_FLAGS}g`);
    } catch (err) {
      throw new BatonError(
        'E_CONFIG_INVALID',
        `screen pattern '${source}' is not a valid regular expression: fix it in agents.yaml`,
        { cause: err },
      );
    }
    compiled.set(source, re);
  }
  return re;
}

/** The line index of each character offset's line: `lineAt(offset)`. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

/** Every match of the patterns, as [first line, last line]. */
function matchLines(
  text: string,
  sources: readonly string[],
  lineAt: (offset: number) => number,
): [number, number][] {
  const found: [number, number][] = [];
  for (const source of sources) {
    for (const m of text.matchAll(regex(source))) {
      const end = m.index + Math.max(m[0].length - 1, 0);
      found.push([lineAt(m.index), lineAt(end)]);
    }
  }
  return found;
}

function scan(text: string, patterns: ScreenPatterns): Scan {
  const lineAt = lineIndex(text);
  const waiting = matchLines(text, patterns.waiting_input, lineAt);
  // A line an approval dialog draws is not the input prompt, even when it looks like one ("❯ 1. Yes").
  const dialogLines = new Set<number>();
  for (const [first, last] of waiting) for (let l = first; l <= last; l++) dialogLines.add(l);
  let promptLine = -1;
  for (const [first] of matchLines(text, patterns.idle, lineAt)) {
    if (!dialogLines.has(first)) promptLine = Math.max(promptLine, first);
  }
  return {
    promptLine,
    // A question above the input prompt has been answered, or is the agent's prose in its transcript;
    // a live approval dialog replaces the prompt or comes after it.
    waiting: waiting.some(([, last]) => last >= promptLine),
    busy: patterns.busy.some((source) => {
      const re = regex(source);
      re.lastIndex = 0;
      return re.test(text);
    }),
  };
}

/**
 * Classifies an agent's screen, as `tmux capture-pane -p` gives it: pass the visible pane (the last
 * screenful), not the scrollback, since only what the agent shows now says what it is doing.
 *
 * - `waiting_input`: an approval or question pattern matches at or below the agent's input prompt
 *   (the last line an idle pattern matches). It wins over everything: a session waiting for an answer
 *   is never idle, even with its spinner or input box in view. A question above the prompt is stale.
 * - `busy`: a busy pattern matches anywhere (agents draw their spinner above their input box).
 * - `idle`: an idle pattern matches.
 * - `unknown`: nothing matches (the agent is starting, streaming with no indicator, or gone).
 *
 * @throws BatonError `E_CONFIG_INVALID` when a pattern is not a valid regular expression.
 */
export function classify(paneText: string, patterns: ScreenPatterns): ScreenState {
  const s = scan(paneText, patterns);
  if (s.waiting) return 'waiting_input';
  if (s.busy) return 'busy';
  return s.promptLine >= 0 ? 'idle' : 'unknown';
}

/** The line index of the agent's input prompt (the last idle match outside an approval dialog), or -1. */
export function promptLineIndex(paneText: string, patterns: ScreenPatterns): number {
  return scan(paneText, patterns).promptLine;
}
