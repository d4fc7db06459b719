// A language model that is the route of one request: it tries the route's providers in order,
// skipping those disabled, without a key, behind an open circuit breaker or priced above the cap,
// retries provider faults on the same provider (honouring Retry-After), fails over on them, and
// records every request in the usage ledger. Request errors (4xx) end the call: another provider
// would refuse it too.
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { BatonError } from '@baton/core';
import { breakerLimits, phaseAt, reopensAt, type BreakerState } from './breaker.js';
import type { BreakerStore } from './breaker-store.js';
import type { BudgetGuard } from './budget.js';
import { providerKind, type AiConfig, type ProviderSettings } from './config.js';
import { DEFAULT_OUTPUT_ESTIMATE, estimateInputTokens } from './estimate.js';
import { classifyFailure, isProviderFault, isRetryable, type Failure } from './failure.js';
import { buildModel, missingKey } from './models.js';
import { callCost, unitPrices, type Cost } from './prices.js';
import type { Route } from './routing.js';
import type { CallRecord, UsageLedger } from './usage.js';

/** Where a call was made from, passed as `providerOptions.baton` by the durable layer. */
export interface CallSite {
  executionId?: string;
  step?: string;
  taskType?: string;
}

/** One provider's part in a call: served, failed (and how), or skipped (and why). */
export interface ProviderAttempt {
  provider: string;
  outcome: 'served' | 'failed' | 'skipped';
  reason?: string;
}

/** What `providerMetadata.baton` of a result says. */
export interface CallReport {
  provider: string;
  model: string;
  useCase: string | null;
  route: string;
  attempts: ProviderAttempt[];
  cost: number | null;
  costSource: Cost['source'];
}

export interface FailoverParts {
  config: AiConfig;
  breakers: BreakerStore;
  ledger: UsageLedger;
  budget: BudgetGuard;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(t), reject(signal?.reason));
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const usd = (n: number) => `$${n.toFixed(4)}`;

/**
 * A timeout that also follows the caller's signal. `stopTimer` ends the timeout once a stream has
 * started (the caller's cancel still reaches the request); `stop` ends both.
 */
function deadline(ms: number, caller: AbortSignal | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no reply within ${ms / 1000} s`, 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(caller?.reason);
  caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    stopTimer: () => clearTimeout(timer),
    stop() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

type Deadline = ReturnType<typeof deadline>;

interface Candidate {
  name: string;
  settings: ProviderSettings;
  model: string;
  breaker: BreakerState | undefined;
}

export class FailoverModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3' as const;
  readonly provider = 'baton';
  readonly supportedUrls = {};

  constructor(
    private readonly parts: FailoverParts,
    private readonly route: Route,
  ) {}

  get modelId(): string {
    return this.route.useCase ?? this.route.order.join('|');
  }

  doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    return this.call(options, async (model, opts, d) => {
      const result = await model.doGenerate(opts);
      d.stop();
      return { result, usage: result.usage, finish: result.finishReason.unified };
    }).then(({ result, report }) => ({
      ...result,
      providerMetadata: { ...result.providerMetadata, baton: report as never },
    }));
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    // Failover happens until a provider answers with a stream; a stream that breaks later is not
    // moved to another provider (the caller has already seen its start): it fails, and counts
    // against the breaker.
    let report!: CallReport;
    const { result, record } = await this.call(
      options,
      async (model, opts, d) => {
        const result = await model.doStream(opts);
        d.stopTimer();
        return { result, usage: null, finish: null };
      },
      (r) => (report = r),
    );
    const reader = result.stream.getReader();
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          // A connection dropped mid-stream, or the caller cancelled: recorded, then passed on.
          await record.failure(err, options.abortSignal?.aborted === true);
          controller.error(err);
          return;
        }
        if (next.done) {
          await record.settle();
          controller.close();
          return;
        }
        const part = next.value;
        if (part.type === 'finish') {
          const cost = await record.success(part.usage, part.finishReason.unified);
          report = { ...report, cost: cost.usd, costSource: cost.source };
          controller.enqueue({
            ...part,
            providerMetadata: { ...part.providerMetadata, baton: report as never },
          });
          return;
        }
        if (part.type === 'error') await record.failure(part.error);
        controller.enqueue(part);
      },
      async cancel(reason) {
        await reader.cancel(reason);
        await record.cancel(reason);
      },
    });
    return { ...result, stream };
  }

  /**
   * Runs `attempt` on each candidate in turn. For a generate, `attempt` gives the usage at once and
   * the call is recorded here; for a stream, the caller records through the returned `record`.
   */
  private async call<R>(
    options: LanguageModelV3CallOptions,
    attempt: (
      model: LanguageModelV3,
      opts: LanguageModelV3CallOptions,
      d: Deadline,
    ) => Promise<{ result: R; usage: LanguageModelV3Usage | null; finish: string | null }>,
    onReport?: (r: CallReport) => void,
  ): Promise<{ result: R; report: CallReport; record: StreamRecorder }> {
    const { config, breakers, ledger, budget } = this.parts;
    const site = (options.providerOptions?.baton ?? {}) as CallSite;
    const { baton: _site, ...providerOptions } = options.providerOptions ?? {};
    const opts: LanguageModelV3CallOptions = {
      ...options,
      providerOptions,
      maxOutputTokens: options.maxOutputTokens ?? this.route.settings.max_tokens,
      temperature: options.temperature ?? this.route.settings.temperature,
    };
    const providers = config.llm_providers?.providers ?? {};
    const advanced = config.llm_providers?.advanced ?? {};
    const attempts: ProviderAttempt[] = [];
    const states = await breakers.load(this.route.order);
    const needEstimate = budget.enabled || this.route.maxCostPerRequest !== null;
    const inputTokens = needEstimate ? await estimateInputTokens(opts.prompt) : 0;
    const outputTokens = opts.maxOutputTokens ?? DEFAULT_OUTPUT_ESTIMATE;

    const candidates: Candidate[] = this.route.order.map((name) => ({
      name,
      settings: providers[name],
      model: this.route.model ?? providers[name].model,
      breaker: states.get(name),
    }));
    let lastRequestError: unknown;
    for (const c of candidates) {
      const now = Date.now();
      const skip = (reason: string) => attempts.push({ provider: c.name, outcome: 'skipped', reason });
      if (c.settings.enabled === false) {
        skip('disabled in llm_providers.yaml');
        continue;
      }
      if (missingKey(c.name, c.settings)) {
        const variable = config.apiKeyVariables?.[c.name];
        skip(`no API key: ${variable ? `set ${variable}` : `set providers.${c.name}.api_key`}`);
        continue;
      }
      const limits = breakerLimits(c.settings.circuit_breaker);
      if (c.breaker && phaseAt(c.breaker, now) === 'open') {
        skip(`circuit breaker open until ${new Date(reopensAt(c.breaker) ?? now).toISOString()}`);
        continue;
      }
      const kind = providerKind(c.name, c.settings);
      const units = unitPrices(kind, c.settings, c.model);
      const estimate = units
        ? (inputTokens * units.inputPer1k + outputTokens * units.outputPer1k) / 1000
        : null;
      const cap = this.route.maxCostPerRequest;
      if (cap !== null && estimate === null) {
        skip(`price of ${c.model} unknown: cannot honour max_cost_per_request ${usd(cap)}`);
        continue;
      }
      if (cap !== null && estimate !== null && estimate > cap) {
        skip(`estimated ${usd(estimate)} exceeds max_cost_per_request ${usd(cap)}`);
        continue;
      }
      await budget.check(estimate);

      const model = buildModel(c.name, c.settings, c.model);
      const timeoutMs = (c.settings.timeout ?? config.llm_providers?.global?.default_timeout ?? 120) * 1000;
      const maxRetries = c.settings.max_retries ?? 0;
      let breaker = c.breaker;
      for (let tryNo = 0; ; tryNo++) {
        const started = performance.now();
        const d = deadline(timeoutMs, opts.abortSignal);
        const base: CallBase = {
          at: Date.now(),
          executionId: site.executionId,
          step: site.step,
          useCase: this.route.useCase,
          taskType: site.taskType,
          provider: c.name,
          model: c.model,
        };
        let out: Awaited<ReturnType<typeof attempt>>;
        try {
          out = await attempt(model, { ...opts, abortSignal: d.signal }, d);
        } catch (err) {
          d.stop();
          const failure = classifyFailure(err, d.timedOut(), opts.abortSignal?.aborted === true);
          await ledger.record({
            ...base,
            outcome: failure.class,
            cost: null,
            costSource: 'unknown',
            latencyMs: performance.now() - started,
            error: describe(failure),
          });
          if (failure.class === 'cancelled') throw err;
          if (!isProviderFault(failure.class)) {
            attempts.push({ provider: c.name, outcome: 'failed', reason: describe(failure) });
            lastRequestError = err;
            break;
          }
          breaker = await breakers.record(c.name, limits, 'failure', breaker);
          const wait = retryDelay(failure, tryNo, advanced);
          if (isRetryable(failure.class) && tryNo < maxRetries && breaker.phase !== 'open' && wait !== null) {
            await sleep(wait, opts.abortSignal);
            continue;
          }
          attempts.push({ provider: c.name, outcome: 'failed', reason: describe(failure) });
          break;
        }
        // Served: the bookkeeping is outside the try, so that a failure to record (the database)
        // is never taken for the provider's and the call is never sent again.
        const report: CallReport = {
          provider: c.name,
          model: c.model,
          useCase: this.route.useCase,
          route: this.route.reason,
          attempts: [...attempts, { provider: c.name, outcome: 'served' }],
          cost: null,
          costSource: 'unknown',
        };
        const recorder = new StreamRecorder(this.parts, base, started, kind, c, limits, breaker, d);
        if (out.usage) {
          const cost = await recorder.success(out.usage, out.finish);
          report.cost = cost.usd;
          report.costSource = cost.source;
        }
        onReport?.(report);
        return { result: out.result, report, record: recorder };
      }
      if (lastRequestError) break;
    }
    if (lastRequestError)
      throw new BatonError(
        'E_LLM_REQUEST',
        `the provider refused the request: ${attempts.at(-1)?.reason}; fix the request (no other provider is tried for a request error)`,
        { cause: lastRequestError, details: { attempts } },
      );
    throw new BatonError(
      'E_LLM_UNAVAILABLE',
      attempts.length
        ? `no LLM provider could serve the call (${this.route.reason}): ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`
        : `no LLM provider is configured for this call (${this.route.reason}): add providers to llm_providers.yaml`,
      { details: { attempts } },
    );
  }
}

function describe(f: Failure): string {
  return `${failureTitle(f)}: ${f.message}`;
}

function failureTitle(f: Failure): string {
  switch (f.class) {
    case 'rate_limited':
      return `rate limited (429${f.retryAfterMs !== undefined ? `, Retry-After ${Math.round(f.retryAfterMs / 100) / 10} s` : ''})`;
    case 'server_error':
      return `server error (${f.status})`;
    case 'account_error':
      return `refused by the provider (${f.status}: key, account or model)`;
    case 'request_error':
      return f.status === undefined ? 'request not sent' : `request refused (${f.status})`;
    default:
      return f.class.replace('_', ' ');
  }
}

/** How long to wait before retrying on the same provider, or null to fail over at once. */
function retryDelay(
  f: Failure,
  tryNo: number,
  advanced: NonNullable<AiConfig['llm_providers']>['advanced'] & object,
): number | null {
  const maxMs = (advanced.retry_max_delay ?? 60) * 1000;
  if (f.class === 'rate_limited') {
    if (advanced.retry_on_rate_limit === false) return null;
    // A provider asking for longer than we may wait is better left for the next one.
    if (f.retryAfterMs !== undefined) return f.retryAfterMs > maxMs ? null : f.retryAfterMs;
  }
  return Math.min(maxMs, 250 * (advanced.retry_backoff_base ?? 2) ** tryNo);
}

/** What every ledger row of one request says, whatever its outcome. */
type CallBase = Omit<CallRecord, 'outcome' | 'cost' | 'costSource' | 'latencyMs'>;

/** Records the outcome of a served call once: its usage row, breaker and budget alerts. */
class StreamRecorder {
  private settled = false;

  constructor(
    private readonly parts: FailoverParts,
    private readonly base: CallBase,
    private readonly started: number,
    private readonly kind: ReturnType<typeof providerKind>,
    private readonly candidate: Candidate,
    private readonly limits: ReturnType<typeof breakerLimits>,
    private readonly breaker: BreakerState | undefined,
    /** The request's deadline: the caller's cancel reaches a stream until it is recorded. */
    private readonly deadline: Deadline,
  ) {}

  async success(usage: LanguageModelV3Usage, finish: string | null): Promise<Cost> {
    const cost = callCost(this.kind, this.candidate.settings, this.candidate.model, usage);
    if (this.settled) return cost;
    this.settled = true;
    this.deadline.stop();
    await this.parts.ledger.record({
      ...this.base,
      outcome: 'ok',
      inputTokens: usage.inputTokens.total ?? null,
      outputTokens: usage.outputTokens.total ?? null,
      cachedTokens: usage.inputTokens.cacheRead ?? null,
      reasoningTokens: usage.outputTokens.reasoning ?? null,
      cost: cost.usd,
      costSource: cost.source,
      latencyMs: performance.now() - this.started,
      finishReason: finish,
    });
    await this.parts.breakers.record(this.candidate.name, this.limits, 'success', this.breaker);
    await this.parts.budget.afterCall();
    return cost;
  }

  async failure(error: unknown, cancelled = false): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.deadline.stop();
    const failure = classifyFailure(error, false, cancelled);
    await this.parts.ledger.record({
      ...this.base,
      outcome: failure.class,
      cost: null,
      costSource: 'unknown',
      latencyMs: performance.now() - this.started,
      error: describe(failure),
    });
    if (isProviderFault(failure.class))
      await this.parts.breakers.record(this.candidate.name, this.limits, 'failure', this.breaker);
  }

  /** The consumer stopped reading: the request is aborted and recorded as cancelled. */
  async cancel(reason: unknown): Promise<void> {
    await this.failure(reason ?? new Error('the stream was cancelled'), true);
  }

  /** A stream that ended without a finish part broke off. */
  async settle(): Promise<void> {
    if (!this.settled) await this.failure(new Error('the stream ended without a finish event'));
  }
}
