// Puts the best-ranked files together within a token budget: files in rank order, each counted
// with the o200k tokenizer (js-tiktoken; never characters ÷ 4); a file that does not fit is left
// out and the next is tried, so the budget fills with the best files that fit.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { countTokens } from '../estimate.js';
import type { RankedFile } from './rank.js';

export interface AssembledFile {
  readonly path: string;
  readonly tokens: number;
  readonly text: string;
}

export interface Assembly {
  readonly files: AssembledFile[];
  readonly budget: number;
  readonly used: number;
  /** Ranked files that did not fit, with their sizes in tokens (or why they could not be read). */
  readonly leftOut: { path: string; tokens?: number; reason: string }[];
}

/** Tokens a file's framing adds (its path line and fences). */
const FRAME_TOKENS = 8;

export async function assembleContext(
  root: string,
  ranked: readonly RankedFile[],
  budget: number,
): Promise<Assembly> {
  const files: AssembledFile[] = [];
  const leftOut: Assembly['leftOut'] = [];
  let used = 0;
  for (const r of ranked) {
    let text: string;
    try {
      text = await readFile(join(root, r.path), 'utf8');
    } catch (err) {
      leftOut.push({ path: r.path, reason: `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
      continue;
    }
    const tokens = (await countTokens(text)) + FRAME_TOKENS;
    if (used + tokens > budget) {
      leftOut.push({ path: r.path, tokens, reason: `does not fit (${budget - used} tokens left)` });
      continue;
    }
    used += tokens;
    files.push({ path: r.path, tokens, text });
  }
  return { files, budget, used, leftOut };
}
