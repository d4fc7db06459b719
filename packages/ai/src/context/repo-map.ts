// A repository map for a request: the best-ranked files, each with the names it declares, in as
// many lines as fit a token budget (counted with the o200k tokenizer). It tells the model where to
// look before it reads anything, as aider's repo map does, at a bounded cost per message.
import { countTokens } from '../estimate.js';
import type { ProjectIndex } from './project-index.js';
import type { RankedFile } from './rank.js';

/** Names listed per file at most. */
const MAX_SYMBOLS = 12;

/** The map's lines, best file first, within `budget` tokens (empty when nothing ranks). */
export async function repoMap(
  index: ProjectIndex,
  ranked: readonly RankedFile[],
  budget: number,
): Promise<string> {
  const lines: string[] = [];
  let used = 0;
  for (const r of ranked) {
    const symbols = index.get(r.path)?.symbols ?? [];
    const shown = symbols.slice(0, MAX_SYMBOLS).join(', ');
    const more = symbols.length > MAX_SYMBOLS ? `, … (${symbols.length - MAX_SYMBOLS} more)` : '';
    const line = symbols.length ? `${r.path}: ${shown}${more}` : r.path;
    const tokens = await countTokens(`${line}\n`);
    if (used + tokens > budget) break;
    used += tokens;
    lines.push(line);
  }
  return lines.join('\n');
}
