// A provider entry of llm_providers.yaml made into an AI SDK model. Models are only ever built
// here, from the file's endpoint and key: a bare model id handed to the SDK would go through
// Vercel's hosted gateway, which Baton never uses.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { BatonError } from '@baton/core';
import { createOllama } from 'ollama-ai-provider-v2';
import { providerKind, type ProviderKind, type ProviderSettings } from './config.js';

/** Kinds served from the provider's cloud, which need an API key. */
const NEEDS_KEY: ReadonlySet<ProviderKind> = new Set(['anthropic', 'openai', 'openai-responses', 'google']);

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The base URL the SDK wants for an `endpoint` as the file writes it. */
function baseUrl(kind: ProviderKind, endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const url = trimSlash(endpoint);
  // The file gives Anthropic's and Ollama's hosts; their SDKs want the versioned API path.
  if (kind === 'anthropic' && !/\/v\d+$/.test(url)) return `${url}/v1`;
  if (kind === 'ollama' && !url.endsWith('/api')) return `${url}/api`;
  return url;
}

/** Whether a provider served from its vendor's cloud has no API key. */
export function missingKey(name: string, settings: ProviderSettings): boolean {
  const kind = providerKind(name, settings);
  return NEEDS_KEY.has(kind) && !settings.api_key;
}

/** The SDK model of one configured provider, for `model` (default: the file's). */
export function buildModel(
  name: string,
  settings: ProviderSettings,
  model = settings.model,
): LanguageModelV3 {
  const kind = providerKind(name, settings);
  const baseURL = baseUrl(kind, settings.endpoint);
  const apiKey = settings.api_key ?? undefined;
  switch (kind) {
    case 'anthropic':
      return createAnthropic({ baseURL, apiKey })(model);
    case 'openai':
      return createOpenAI({ baseURL, apiKey, name }).chat(model);
    case 'openai-responses':
      return createOpenAI({ baseURL, apiKey, name }).responses(model);
    case 'google':
      return createGoogleGenerativeAI({ baseURL, apiKey })(model);
    case 'ollama':
      return createOllama({ baseURL })(model);
    case 'openai-compatible':
      if (!baseURL)
        throw new BatonError(
          'E_CONFIG_INVALID',
          `provider '${name}' has no endpoint: an OpenAI-compatible provider needs providers.${name}.endpoint in llm_providers.yaml`,
        );
      return createOpenAICompatible({
        name,
        baseURL,
        apiKey,
        includeUsage: true,
      })(model);
  }
}
