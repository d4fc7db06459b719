// Cuts an agent's answer out of its pane: the text between the prompt Baton delivered and the
// agent's next input prompt (or the completion marker).
import { SCREEN_PATTERN_FLAGS } from '../../config/kinds/agents.js';
import type { ScreenPatterns } from './defaults.js';
import { promptLineIndex } from './screen.js';

/** Blank lines and lines of box drawing only: frames around the agent's input box, not its answer. */
const DECORATION = /^[\s─━═│┃║╭╮╰╯┌┐└┘├┤┬┴┼▌]*$/;

/** What a delivered prompt left on the pane, to find the answer to it later. */
export interface DeliveryMark {
  /** The pane's lines (scrollback and screen) just before the prompt was delivered. */
  readonly before: readonly string[];
  readonly prompt: string;
}

/** The answer region: from just after the echo of the prompt to the end of the pane. */
function answerStart(mark: DeliveryMark, after: readonly string[]): number {
  // What was on the pane before stays as it was above the point where the agent drew anything new.
  let start = 0;
  while (start < after.length && start < mark.before.length && after[start] === mark.before[start]) start++;
  // Skip the agent's echo of the prompt, which ends with the prompt's last line.
  const lastLine = mark.prompt
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  if (lastLine !== undefined) {
    const echo = after.findIndex((line, i) => i >= start && line.includes(lastLine));
    if (echo !== -1) return echo + 1;
  }
  return start;
}

function trimDecoration(lines: readonly string[]): string {
  let from = 0;
  let to = lines.length;
  while (from < to && DECORATION.test(lines[from])) from++;
  while (to > from && DECORATION.test(lines[to - 1])) to--;
  return lines
    .slice(from, to)
    .map((l) => l.trimEnd())
    .join('\n');
}

/**
 * The agent's answer to a delivered prompt: the pane text after the echo of the prompt, up to the
 * agent's new input area; with `marker`, up to and including the line where the marker's first match
 * ends (what the agent draws after its marker, such as a spinner, is not the answer). Frames and blank
 * lines around it are dropped. Returns undefined when `marker` is given and does not appear after the prompt.
 */
export function answerText(
  mark: DeliveryMark,
  paneText: string,
  patterns: ScreenPatterns,
  marker?: string,
): string | undefined {
  const after = paneText.split('\n');
  const region = after.slice(answerStart(mark, after));
  if (marker !== undefined) {
    const text = region.join('\n');
    const m = new RegExp(marker, SCREEN_PATTERN_FLAGS).exec(text);
    if (m === null) return undefined;
    const hit = text.slice(0, m.index + m[0].length).split('\n').length - 1;
    return trimDecoration(region.slice(0, hit + 1));
  }
  let end = promptLineIndex(region.join('\n'), patterns);
  if (end === -1) return trimDecoration(region);
  // The input area can span several lines (a box, a footer under it): it starts where the lines above
  // the prompt stop being frames or prompt lines.
  const inInputArea = (line: string) => DECORATION.test(line) || promptLineIndex(line, patterns) === 0;
  while (end > 0 && inInputArea(region[end - 1])) end--;
  return trimDecoration(region.slice(0, end));
}
