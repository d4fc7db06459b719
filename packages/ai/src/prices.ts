// What a call costs. The offline price table of @pydantic/genai-prices when it knows the model
// (it prices cached input and reasoning as each provider bills them); else the file's
// cost_per_1k_prompt / cost_per_1k_completion; else unknown: the call is recorded with a null cost
// and never treated as free.
import { calcPrice } from '@pydantic/genai-prices';
import type { LanguageModelV3Usage } from '@ai-sdk/provider';
import type { ProviderKind, ProviderSettings } from './config.js';

export type CostSource = 'prices' | 'config' | 'unknown';

export interface Cost {
  usd: number | null;
  source: CostSource;
}

/** USD per 1,000 input and output tokens, for estimates before a call. */
export interface UnitPrices {
  inputPer1k: number;
  outputPer1k: number;
  source: Exclude<CostSource, 'unknown'>;
}

const PRICE_PROVIDER: Partial<Record<ProviderKind, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  'openai-responses': 'openai',
  google: 'google',
};

const unitCache = new Map<string, UnitPrices | null>();

function tableCost(kind: ProviderKind, model: string, usage: Record<string, number>): number | null {
  const providerId = PRICE_PROVIDER[kind];
  if (!providerId) return null;
  try {
    return calcPrice(usage, model, { providerId })?.total_price ?? null;
  } catch {
    return null;
  }
}

/** How many tokens a model's context window holds, when the price table knows the model; else null. */
export function contextWindow(kind: ProviderKind, model: string): number | null {
  const providerId = PRICE_PROVIDER[kind];
  if (!providerId) return null;
  try {
    return (
      calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId })?.model.context_window ?? null
    );
  } catch {
    return null;
  }
}

/** The unit prices of a provider's model, or null when neither the table nor the file has them. */
export function unitPrices(
  kind: ProviderKind,
  settings: ProviderSettings,
  model = settings.model,
): UnitPrices | null {
  const key = `${kind}\0${model}\0${settings.cost_per_1k_prompt}\0${settings.cost_per_1k_completion}`;
  const cached = unitCache.get(key);
  if (cached !== undefined) return cached;
  const input = tableCost(kind, model, { input_tokens: 1000, output_tokens: 0 });
  const output = tableCost(kind, model, { input_tokens: 0, output_tokens: 1000 });
  let prices: UnitPrices | null = null;
  if (input !== null && output !== null)
    prices = { inputPer1k: input, outputPer1k: output, source: 'prices' };
  else if (settings.cost_per_1k_prompt !== undefined && settings.cost_per_1k_completion !== undefined)
    prices = {
      inputPer1k: settings.cost_per_1k_prompt,
      outputPer1k: settings.cost_per_1k_completion,
      source: 'config',
    };
  unitCache.set(key, prices);
  return prices;
}

/** The cost of one call from the usage the provider reported. */
export function callCost(
  kind: ProviderKind,
  settings: ProviderSettings,
  model: string,
  usage: LanguageModelV3Usage,
): Cost {
  const input = usage.inputTokens.total ?? 0;
  const cacheRead = usage.inputTokens.cacheRead ?? 0;
  const cacheWrite = usage.inputTokens.cacheWrite ?? 0;
  const output = usage.outputTokens.total ?? 0;
  const fromTable = tableCost(kind, model, {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: output,
  });
  if (fromTable !== null) return { usd: fromTable, source: 'prices' };
  const units = unitPrices(kind, settings, model);
  if (!units) return { usd: null, source: 'unknown' };
  return { usd: (input * units.inputPer1k + output * units.outputPer1k) / 1000, source: units.source };
}
