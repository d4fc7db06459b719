// Which providers a call tries, in which order, with which settings: an explicit provider; else a
// use case (named, or picked by `routing.by_task_type` from the task type); else `failover_order`.
import { BatonError, nearest } from '@baton/core';
import type { AiConfig, UseCaseSettings } from './config.js';

/** What a caller asks for; all optional. */
export interface RouteRequest {
  /** One provider by name: only it is tried. */
  provider?: string;
  /** A model other than the provider's configured one (only with `provider`). */
  model?: string;
  /** A use case of llm_failover_policy.yaml. */
  useCase?: string;
  /** A task type ("refactor the parser"), matched against `routing.by_task_type` to pick a use case. */
  taskType?: string;
}

export interface Route {
  /** Providers to try, in order. */
  order: string[];
  useCase: string | null;
  /** Defaults for the call's settings. */
  settings: NonNullable<UseCaseSettings['settings']>;
  /** The most one request may cost (USD), from the use case. */
  maxCostPerRequest: number | null;
  /** A model override for the single provider. */
  model: string | null;
  /** Why this route: for the call's record and `baton ai route`. */
  reason: string;
}

function unknown(what: string, name: string, known: string[], where: string): BatonError {
  const guess = nearest(name, known);
  return new BatonError(
    'E_NOT_FOUND',
    `unknown ${what} '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}: ${where} ${known.length ? `has ${known.join(', ')}` : 'has none'}`,
    { details: { [what.replace(' ', '_')]: name, known } },
  );
}

const compiled = new WeakMap<object, RegExp[]>();

/** The use case `routing.by_task_type` gives a task type, with the rule that matched. */
export function useCaseForTask(config: AiConfig, taskType: string): { useCase: string; rule: string } | null {
  const byType = config.llm_failover_policy?.routing?.by_task_type;
  if (!byType || byType.enabled === false || !byType.rules) return null;
  let res = compiled.get(byType.rules);
  if (!res) {
    res = byType.rules.map((r) => new RegExp(r.match, 'i'));
    compiled.set(byType.rules, res);
  }
  for (let i = 0; i < res.length; i++)
    if (res[i].test(taskType)) return { useCase: byType.rules[i].use_case, rule: byType.rules[i].match };
  return null;
}

/** The route of a request. Throws E_NOT_FOUND (with a did-you-mean) for unknown names. */
export function resolveRoute(config: AiConfig, req: RouteRequest): Route {
  const providers = config.llm_providers?.providers ?? {};
  const names = Object.keys(providers);
  if (req.provider !== undefined) {
    if (!Object.hasOwn(providers, req.provider))
      throw unknown('provider', req.provider, names, 'llm_providers.yaml providers');
    return {
      order: [req.provider],
      useCase: null,
      settings: {},
      maxCostPerRequest: null,
      model: req.model ?? null,
      reason: `provider '${req.provider}' asked for`,
    };
  }
  if (req.model !== undefined)
    throw new BatonError(
      'E_INVALID_OPTION',
      `model '${req.model}' needs a provider: pass provider as well, or set the model in llm_providers.yaml`,
    );
  const useCases = config.llm_failover_policy?.use_cases ?? {};
  let useCase = req.useCase;
  let reason = useCase !== undefined ? `use case '${useCase}' asked for` : '';
  if (useCase === undefined && req.taskType !== undefined) {
    const hit = useCaseForTask(config, req.taskType);
    if (hit) {
      useCase = hit.useCase;
      reason = `task type '${req.taskType}' matched /${hit.rule}/ → use case '${useCase}'`;
    }
  }
  const defaultOrder = defaultProviders(config);
  if (useCase === undefined)
    return {
      order: defaultOrder,
      useCase: null,
      settings: {},
      maxCostPerRequest: null,
      model: null,
      reason:
        req.taskType !== undefined
          ? `task type '${req.taskType}' matched no rule: failover_order`
          : 'failover_order',
    };
  if (!Object.hasOwn(useCases, useCase))
    throw unknown('use case', useCase, Object.keys(useCases), 'llm_failover_policy.yaml use_cases');
  const uc = useCases[useCase];
  for (const p of uc.preferred_order ?? [])
    if (!Object.hasOwn(providers, p))
      throw unknown(
        'provider',
        p,
        names,
        `use case '${useCase}' prefers it, but llm_providers.yaml providers`,
      );
  return {
    order: uc.preferred_order ?? defaultOrder,
    useCase,
    settings: uc.settings ?? {},
    maxCostPerRequest: uc.max_cost_per_request ?? null,
    model: null,
    reason,
  };
}

/** `failover_order` (or every provider in file order), or only the default provider when failover is off. */
function defaultProviders(config: AiConfig): string[] {
  const file = config.llm_providers;
  const all = Object.keys(file?.providers ?? {});
  if (file?.global?.failover_enabled === false) {
    const only = file.global.default_provider ?? file.failover_order?.[0] ?? all[0];
    return only ? [only] : [];
  }
  return file?.failover_order ?? all;
}
