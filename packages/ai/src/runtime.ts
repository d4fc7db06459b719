// `Ai`: the AI layer over one store and one configuration. `ai.generate` / `ai.stream` call the
// routed providers directly (scripts); `ai.in(ctx)` gives the same calls as durable steps of a
// workflow (the engine knows nothing of LLMs, so the workflow context does not carry them itself).
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Logger, Store, WorkflowContext } from '@baton/core';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { BreakerStore } from './breaker-store.js';
import { BudgetGuard, logAlerts, type AlertSink } from './budget.js';
import type { AiConfig } from './config.js';
import { durableMiddleware, type StreamEvent } from './durable.js';
import { FailoverModel } from './failover-model.js';
import { resolveRoute, type RouteRequest } from './routing.js';
import { migrateAi } from './schema.js';
import { UsageLedger } from './usage.js';

type GenerateArgs = Parameters<typeof generateText>[0];
type StreamArgs = Parameters<typeof streamText>[0];

/** A call: the SDK's options without a model (Baton builds it from the config), plus the route. */
export type GenerateRequest = Omit<GenerateArgs, 'model'> & RouteRequest;
export type StreamRequest = Omit<StreamArgs, 'model'> & RouteRequest;

/** The NOTIFY channel live stream parts are published on. */
export const STREAM_CHANNEL = 'baton_ai_stream';

export interface AiOptions {
  logger?: Logger;
  /** Where budget alerts go (default: a warning in the log). */
  alerts?: AlertSink;
}

const ROUTE_KEYS = ['provider', 'model', 'useCase', 'taskType'] as const;

function split<T extends RouteRequest>(req: T): { route: RouteRequest; rest: Omit<T, keyof RouteRequest> } {
  const route: RouteRequest = {};
  const rest = { ...req } as Record<string, unknown>;
  for (const k of ROUTE_KEYS) {
    if (req[k] !== undefined) route[k] = req[k];
    delete rest[k];
  }
  return { route, rest: rest as Omit<T, keyof RouteRequest> };
}

/**
 * The SDK's options for a request: the model of its route, the SDK's own retries off (retries and
 * failover are Baton's), and `signal` unless the request brings its own.
 */
function sdkArgs<T extends RouteRequest & { abortSignal?: AbortSignal }>(
  req: T,
  model: (route: RouteRequest) => LanguageModelV3,
  signal?: AbortSignal,
) {
  const { route, rest } = split(req);
  return { ...rest, model: model(route), maxRetries: 0, abortSignal: req.abortSignal ?? signal };
}

export class Ai {
  readonly usage: UsageLedger;
  readonly breakers: BreakerStore;
  private readonly budget: BudgetGuard;

  private constructor(
    readonly store: Store,
    readonly config: AiConfig,
    options: AiOptions,
  ) {
    this.usage = new UsageLedger(store.driver);
    this.breakers = new BreakerStore(store.driver);
    const alerts = options.alerts ?? logAlerts(options.logger ?? store.logger);
    this.budget = new BudgetGuard(config.llm_providers?.budget, this.usage, store.driver, alerts);
  }

  /** The AI layer over `store` (its tables created or upgraded) and `config`. */
  static async open(store: Store, config: AiConfig, options: AiOptions = {}): Promise<Ai> {
    await migrateAi(store.driver);
    return new Ai(store, config, options);
  }

  /** The model a request routes to: tries its providers in order (see FailoverModel). */
  model(route: RouteRequest = {}): LanguageModelV3 {
    return new FailoverModel(
      { config: this.config, breakers: this.breakers, ledger: this.usage, budget: this.budget },
      resolveRoute(this.config, route),
    );
  }

  /** One generation, not durable (scripts, tests). */
  generate(req: GenerateRequest): ReturnType<typeof generateText> {
    return generateText(sdkArgs(req, (r) => this.model(r)) as GenerateArgs);
  }

  stream(req: StreamRequest): ReturnType<typeof streamText> {
    return streamText(sdkArgs(req, (r) => this.model(r)) as StreamArgs);
  }

  /** A line naming the budget limits past their alert threshold, or null. */
  budgetWarning(): Promise<string | null> {
    return this.budget.warning();
  }

  /** The same calls as durable steps of a workflow (`cancel`: a person's cancel, see DurableOptions). */
  in(ctx: WorkflowContext, options: { cancel?: AbortSignal } = {}): DurableAi {
    return new DurableAi(this, ctx, options.cancel);
  }

  /** Publishes one live stream part (text and tool-call parts only: what followers render). */
  publish = (e: StreamEvent): void => {
    const p = e.part;
    const part =
      p.type === 'text-delta' || p.type === 'reasoning-delta'
        ? { type: p.type, delta: p.delta }
        : p.type === 'tool-call'
          ? { type: p.type, toolName: p.toolName, toolCallId: p.toolCallId }
          : p.type === 'finish'
            ? { type: p.type, finishReason: p.finishReason.unified }
            : null;
    if (!part) return;
    this.store.driver
      .notify(STREAM_CHANNEL, JSON.stringify({ executionId: e.executionId, step: e.step, part }))
      .catch((err: unknown) => this.store.logger.debug({ err }, 'could not publish a stream part'));
  };
}

/** `ai.in(ctx)`: generate and stream as durable steps of the workflow `ctx`. */
export class DurableAi {
  constructor(
    private readonly ai: Ai,
    private readonly ctx: WorkflowContext,
    private readonly cancel?: AbortSignal,
  ) {}

  model(route: RouteRequest = {}): LanguageModelV3 {
    return wrapLanguageModel({
      model: this.ai.model(route) as never,
      middleware: durableMiddleware(this.ctx, {
        taskType: route.taskType,
        publish: this.ai.publish,
        cancel: this.cancel,
      }),
    }) as LanguageModelV3;
  }

  generate(req: GenerateRequest): ReturnType<typeof generateText> {
    return generateText(sdkArgs(req, (r) => this.model(r), this.ctx.signal) as GenerateArgs);
  }

  stream(req: StreamRequest): ReturnType<typeof streamText> {
    return streamText(sdkArgs(req, (r) => this.model(r), this.ctx.signal) as StreamArgs);
  }
}
