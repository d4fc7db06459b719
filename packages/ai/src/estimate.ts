// Token estimates before a call, for budgets and cost caps: the prompt's text counted with the
// o200k tokenizer (js-tiktoken; loaded on first use, as its table is 2 MB), never characters ÷ 4.
// Providers' tokenizers differ, so this is an estimate; the ledger records what the provider bills.
import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import type { Tiktoken } from 'js-tiktoken/lite';

/** Output tokens assumed when a call sets no maximum. */
export const DEFAULT_OUTPUT_ESTIMATE = 1000;
/** Tokens each message adds for its role and framing. */
const PER_MESSAGE = 4;

let encoder: Promise<Tiktoken> | undefined;

function loadEncoder(): Promise<Tiktoken> {
  encoder ??= Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]).then(
    ([{ Tiktoken }, ranks]) => new Tiktoken(ranks.default),
  );
  return encoder;
}

/** The text of a prompt: every text part, tool call argument and tool result, as JSON where not text. */
function promptText(prompt: LanguageModelV3Prompt): string[] {
  const out: string[] = [];
  for (const message of prompt) {
    if (typeof message.content === 'string') {
      out.push(message.content);
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning') out.push(part.text);
      else if (part.type === 'tool-call') out.push(JSON.stringify(part.input ?? null));
      else if (part.type === 'tool-result') out.push(JSON.stringify(part.output ?? null));
    }
  }
  return out;
}

/** Estimated input tokens of a prompt. */
export async function estimateInputTokens(prompt: LanguageModelV3Prompt): Promise<number> {
  const enc = await loadEncoder();
  let tokens = prompt.length * PER_MESSAGE;
  for (const text of promptText(prompt)) tokens += enc.encode(text).length;
  return tokens;
}

/** The tokens of `text` under the o200k tokenizer. */
export async function countTokens(text: string): Promise<number> {
  return (await loadEncoder()).encode(text).length;
}
