// An agent: the tool loop as a durable workflow. Each model turn is a durable LLM step; each tool
// call goes through the permission rules (its decision recorded and audited), an approval when the
// rules say ask (a durable wait: the workflow holds no memory meanwhile), and runs as a step named
// by its toolCallId. A call that was running when its worker died runs again only if its tool is
// idempotent; otherwise the model is told it was interrupted, and decides.
import {
  BatonError,
  defineWorkflow,
  isBatonError,
  type PermissionPolicy,
  type ToolCallSubject,
  type WorkflowContext,
  type WorkflowDefinition,
} from '@baton/core';
import { jsonSchema, stepCountIs, tool, type ModelMessage, type ToolSet } from 'ai';
import { z } from 'zod';
import type { RouteRequest } from '../routing.js';
import type { Ai } from '../runtime.js';
import type { AgentTool } from '../tools/tool.js';
import type { ToolSandbox } from '../tools/sandbox.js';
import { exactRule, type AlwaysRules } from './always.js';
import { approvalSignal, ApprovalStore, type ApprovalAnswer } from './approvals.js';
import { AuditLog, type AuditEntry } from './audit.js';
import { maskSecrets } from './mask.js';
import type { ToolMode } from './modes.js';

/** An agent. Which providers answer its turns: `useCase`, `taskType`, or `provider` (and `model`). */
export interface AgentSpec extends RouteRequest {
  name: string;
  system: string;
  tools: AgentTool<never>[];
  /** Most model turns. Default 20. */
  maxSteps?: number;
  /** The run stops once its calls have cost this much (USD), or after a call whose price is unknown. */
  budget?: { maxCostUsd: number };
  queue?: string;
}

/** What an agent's run is given. */
export interface AgentInput {
  prompt: string;
  /**
   * How long an `ask` waits for a person (ms). Absent: ask is deny, so a run with no one to ask
   * (headless, no TTY) never hangs.
   */
  approvalTimeoutMs?: number;
}

export interface AgentResult {
  text: string;
  turns: number;
  costUsd: number;
  toolCalls: number;
  /** Why the loop ended: the model answered, a limit stopped it, or a person cancelled it. */
  stoppedBy: 'answer' | 'max_steps' | 'budget' | 'cancelled';
}

/** What an agent's runs use: set up once per process (the Ai opens its store, the policy loads its rules). */
export interface AgentRuntime {
  ai: Ai;
  sandbox: ToolSandbox;
  policy: PermissionPolicy;
  /** Where `--remember always` answers go (absent: they act for the session only). */
  always?: AlwaysRules;
}

type Decision =
  | { kind: 'error'; message: string }
  | { kind: 'deny'; rule: string | null; reason: string }
  | ({ kind: 'allow' } & Permitted)
  | ({ kind: 'ask' } & Permitted);

interface Permitted {
  rule: string | null;
  args: unknown;
  subject: Omit<ToolCallSubject, 'tool'>;
  /** What a session approval of this call covers. */
  key: string;
  /** Whether a rule can say all the call does (else an "always" answer acts for the session only). */
  exact: boolean;
}

type ToolOutcome = { text: string } | { error: string } | { interrupted: true };

interface Call {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

/** What a tool call that is refused, fails or was interrupted throws: the model sees its message. */
class ToolCallError extends Error {
  override name = 'ToolCallError';
}

/** A tool's name as providers accept it. */
export const modelToolName = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, '_');

/** An agent spec, checked, with its tools under the names the model sees. */
export interface PreparedAgent {
  readonly spec: AgentSpec;
  readonly maxSteps: number;
  readonly tools: ReadonlyMap<string, AgentTool<never>>;
}

/** Checks an agent spec (E_INVALID_OPTION naming what is wrong). */
export function prepareAgent(spec: AgentSpec): PreparedAgent {
  const maxSteps = spec.maxSteps ?? 20;
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    throw new BatonError('E_INVALID_OPTION', `agent '${spec.name}': maxSteps must be a positive integer`);
  if (spec.model !== undefined && spec.provider === undefined)
    throw new BatonError(
      'E_INVALID_OPTION',
      `agent '${spec.name}': model '${spec.model}' needs a provider (the model is one of that provider's)`,
    );
  // Providers accept only [A-Za-z0-9_-] in tool names: `mcp:github:create_issue` is offered to the
  // model as `mcp_github_create_issue`; rules, approvals and the audit log use the real name.
  const tools = new Map(spec.tools.map((t) => [modelToolName(t.name), t]));
  if (tools.size !== spec.tools.length)
    throw new BatonError(
      'E_INVALID_OPTION',
      `agent '${spec.name}' lists a tool twice (names compared as ${[...tools.keys()].join(', ')})`,
    );
  return { spec, maxSteps, tools };
}

/** What one turn said and did, and the messages it added to the conversation. */
export interface TurnOutcome {
  readonly result: AgentResult;
  /** The assistant's and the tools' messages of the turn, in order (JSON). */
  readonly messages: ModelMessage[];
  /** Tokens of the turn; `lastInputTokens`: what its last model call was sent (how full the window is). */
  readonly usage: { inputTokens: number; outputTokens: number; lastInputTokens: number };
}

/** What a turn shows as it runs (`baton chat`, stream-json): its parts, live and on replay alike. */
export type TurnPart =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'tool-call'; id: string; tool: string; input: unknown }
  | { type: 'tool-result'; id: string; tool: string; output: string; error: boolean }
  | { type: 'step'; inputTokens: number; outputTokens: number; costUsd: number | null };

/** A turn that streams: who sees its parts, and a person's cancel (see DurableOptions.cancel). */
export interface TurnLive {
  onPart?: (part: TurnPart) => void;
  cancel?: AbortSignal;
}

/** What the conversation keeps of a turn a person cancelled (the same on a replay). */
const CANCELLED_NOTE = '[the user cancelled this turn before it finished]';

const isCancel = (err: unknown): boolean => {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === 'E_CANCELLED' || e?.cause?.code === 'E_CANCELLED';
};

/**
 * One turn of an agent inside a workflow: one multi-step generation over the conversation, each
 * model step a durable LLM step and each tool call handled by `calls` (its own durable steps). The
 * turn stops when the model answers, after `maxSteps` model steps, at the budget, or (with `live`)
 * at a person's cancel. With `live` the turn streams; a workflow must always or never pass it, since
 * a stream and a generation are different steps in its history.
 */
export async function runTurn(
  ctx: WorkflowContext,
  agent: PreparedAgent,
  rt: AgentRuntime,
  calls: ToolCalls,
  conversation: ({ prompt: string } | { messages: ModelMessage[] }) & { system?: string },
  live?: TurnLive,
): Promise<TurnOutcome> {
  const { spec } = agent;
  // A budget is kept only as far as prices are known: a call of unknown price stops the run.
  let cost = 0;
  let unpriced = false;
  const stopped = () => spec.budget !== undefined && (unpriced || cost >= spec.budget.maxCostUsd);
  const modelTools: ToolSet = Object.fromEntries(
    [...agent.tools].map(([name, t]) => [
      name,
      tool({
        description: t.description,
        inputSchema: jsonSchema(z.toJSONSchema(t.input) as never),
        execute: (args: unknown, { toolCallId }) => calls.handle({ toolCallId, toolName: name, input: args }),
      }),
    ]),
  );
  // The messages of the steps done so far: what a cancelled turn keeps.
  let done: ModelMessage[] = [];
  // The SDK keeps the conversation within the turn (a replay does not re-validate a growing
  // history each step); each model step is a durable step through the middleware.
  const request = {
    useCase: spec.useCase,
    taskType: spec.taskType,
    provider: spec.provider,
    model: spec.model,
    ...conversation,
    system: conversation.system ?? spec.system,
    tools: modelTools,
    stopWhen: [stepCountIs(agent.maxSteps), stopped],
    onStepFinish: (step: {
      providerMetadata?: Record<string, unknown>;
      response: { messages: ModelMessage[] };
    }) => {
      const c = (step.providerMetadata?.baton as { cost?: number | null } | undefined)?.cost;
      if (typeof c === 'number') cost += c;
      else unpriced = true;
      done = step.response.messages;
    },
  };
  const durable = rt.ai.in(ctx, { cancel: live?.cancel });
  let r: {
    text: string;
    steps: { toolCalls: unknown[]; usage: { inputTokens?: number } }[];
    finishReason: string;
    messages: ModelMessage[];
    usage: { inputTokens?: number; outputTokens?: number };
  };
  if (!live) {
    const g = await durable.generate(request);
    r = {
      text: g.text,
      steps: g.steps,
      finishReason: g.finishReason,
      messages: g.response.messages,
      usage: g.totalUsage,
    };
  } else {
    const s = durable.stream({ ...request, onError: () => undefined });
    let failure: unknown;
    // A failed call comes as an error part, or (a failure the SDK does not catch) as the stream's own.
    try {
      for await (const part of s.fullStream) {
        const shown = turnPart(part);
        if (shown) live.onPart?.(shown);
        if (part.type === 'error') failure = part.error;
      }
    } catch (err) {
      failure = err;
    }
    if (failure !== undefined && !isCancel(failure)) throw failure;
    if (failure !== undefined) {
      const said = done.filter((m) => m.role === 'assistant');
      const toolCalls = said.reduce(
        (n, m) => n + (Array.isArray(m.content) ? m.content.filter((c) => c.type === 'tool-call').length : 0),
        0,
      );
      return {
        result: {
          text: CANCELLED_NOTE,
          turns: said.length,
          costUsd: cost,
          toolCalls,
          stoppedBy: 'cancelled',
        },
        messages: [...json(done), { role: 'assistant', content: CANCELLED_NOTE }],
        usage: { inputTokens: 0, outputTokens: 0, lastInputTokens: 0 },
      };
    }
    r = {
      text: await s.text,
      steps: await s.steps,
      finishReason: await s.finishReason,
      messages: (await s.response).messages,
      usage: await s.totalUsage,
    };
  }
  const toolCalls = r.steps.reduce((n, step) => n + step.toolCalls.length, 0);
  const answered = r.finishReason !== 'tool-calls';
  return {
    result: {
      text: r.text,
      turns: r.steps.length,
      costUsd: cost,
      toolCalls,
      stoppedBy: answered ? 'answer' : stopped() ? 'budget' : 'max_steps',
    },
    messages: json(r.messages),
    usage: {
      inputTokens: r.usage.inputTokens ?? 0,
      outputTokens: r.usage.outputTokens ?? 0,
      lastInputTokens: r.steps.at(-1)?.usage.inputTokens ?? 0,
    },
  };
}

// As JSON (the SDK leaves undefined fields): what a continue-as-new or a replay carries is the same.
const json = (messages: ModelMessage[]) => JSON.parse(JSON.stringify(messages)) as ModelMessage[];

/** The part of the SDK's stream a person sees, if any. */
function turnPart(part: { type: string } & Record<string, unknown>): TurnPart | null {
  switch (part.type) {
    case 'text-delta':
      return { type: 'text', delta: part.text as string };
    case 'reasoning-delta':
      return { type: 'reasoning', delta: part.text as string };
    case 'tool-call':
      return {
        type: 'tool-call',
        id: part.toolCallId as string,
        tool: part.toolName as string,
        input: part.input,
      };
    case 'tool-result':
    case 'tool-error': {
      const error = part.type === 'tool-error';
      const out = error ? part.error : part.output;
      return {
        type: 'tool-result',
        id: part.toolCallId as string,
        tool: part.toolName as string,
        output: typeof out === 'string' ? out : out instanceof Error ? out.message : JSON.stringify(out),
        error,
      };
    }
    case 'finish-step': {
      const usage = part.usage as { inputTokens?: number; outputTokens?: number };
      const c = (
        (part.providerMetadata as Record<string, unknown> | undefined)?.baton as
          { cost?: number | null } | undefined
      )?.cost;
      return {
        type: 'step',
        inputTokens: usage.inputTokens ?? 0,
        outputTokens: usage.outputTokens ?? 0,
        costUsd: typeof c === 'number' ? c : null,
      };
    }
    default:
      return null;
  }
}

/** Defines an agent: a workflow named `agent.<name>` that takes an AgentInput. */
export function defineAgent(
  spec: AgentSpec,
  runtime: AgentRuntime | (() => AgentRuntime),
): WorkflowDefinition<AgentInput, AgentResult> {
  const agent = prepareAgent(spec);
  const rt = typeof runtime === 'function' ? runtime : () => runtime;
  return defineWorkflow<AgentInput, AgentResult>(
    `agent.${spec.name}`,
    { queue: spec.queue },
    async (ctx, input) => {
      const runtimeNow = rt();
      const calls = new ToolCalls(ctx, runtimeNow, agent.tools, {
        approvalTimeoutMs: () => input.approvalTimeoutMs,
      });
      return (await runTurn(ctx, agent, runtimeNow, calls, { prompt: input.prompt })).result;
    },
  );
}

/** What the tool calls of a run are given. */
export interface ToolCallOptions {
  /** The mode of the turn under way (default: `default`). */
  mode?: () => ToolMode;
  /** How long an ask waits for a person now (ms); undefined: ask is deny. */
  approvalTimeoutMs: () => number | undefined;
  /** Keeps a file's content before a tool call changes it (for undo); absent: no checkpoints. */
  checkpoint?: (rel: string, toolCallId: string) => Promise<void>;
  /** A person's cancel of the turn under way: a call it stops, or one after it, fails (recorded). */
  cancel?: () => AbortSignal | undefined;
}

/**
 * The tool calls of one run, with the approvals given "for the session" (which last the run: a
 * chat session's turns share them).
 */
export class ToolCalls {
  private readonly session = new Set<string>();
  private readonly audit: AuditLog;
  private readonly approvals: ApprovalStore;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly rt: AgentRuntime,
    private readonly tools: ReadonlyMap<string, AgentTool<never>>,
    private readonly options: ToolCallOptions,
  ) {
    this.audit = new AuditLog(rt.ai.store.driver);
    this.approvals = new ApprovalStore(rt.ai.store.driver);
  }

  /** The tool's own name (`mcp:github:create_issue`) for the model's name of it. */
  private toolName(call: Call): string {
    return this.tools.get(call.toolName)?.name ?? call.toolName;
  }

  private entry(
    call: Call,
    stage: string,
    e: Pick<AuditEntry, 'decision' | 'rule' | 'decidedBy' | 'reason'>,
  ): AuditEntry {
    return {
      id: `${this.ctx.id}:${call.toolCallId}:${stage}`,
      at: Date.now(),
      executionId: this.ctx.id,
      toolCallId: call.toolCallId,
      tool: this.toolName(call),
      arguments: maskSecrets(call.input ?? null),
      ...e,
    };
  }

  /**
   * One call: its decision, an approval when asked for, and the tool's run, each a durable step.
   * Resolves to what the model sees; a refused, failed or interrupted call throws, and the model
   * sees the error's message as the tool's error.
   */
  async handle(call: Call): Promise<string> {
    const { ctx } = this;
    const id = call.toolCallId;
    // The step before the tool's own marks it started: if that step comes from history and the
    // tool's does not, the tool was running when a worker died.
    let fresh = false;
    const decision = await ctx.step<Decision>(`tool.decide:${id}`, async () => {
      fresh = true;
      return this.decide(call);
    });
    if (decision.kind === 'error') throw new ToolCallError(decision.message);
    if (decision.kind === 'deny') throw new ToolCallError(`${decision.reason}; do not repeat this call`);
    if (decision.kind === 'ask') {
      const answer = await this.approve(call, decision);
      fresh = answer.fresh;
      if (!answer.approved) throw new ToolCallError(`${answer.reason}; do not repeat this call`);
    }
    const tool = this.tools.get(call.toolName)!;
    const out = await ctx.step<ToolOutcome>(`tool:${call.toolName}:${id}`, async (s) => {
      if (!fresh && !tool.idempotent) {
        await this.audit.write(
          this.entry(call, 'interrupted', {
            decision: 'interrupted',
            rule: null,
            decidedBy: null,
            reason: 'the worker stopped while the call ran',
          }),
        );
        return { interrupted: true };
      }
      const cancel = this.options.cancel?.();
      if (cancel?.aborted) return { error: 'cancelled by the user' };
      try {
        return {
          text: await tool.run(decision.args as never, {
            sandbox: this.rt.sandbox,
            signal: cancel ? AbortSignal.any([s.signal, cancel]) : s.signal,
            canRead: (rel) => this.rt.policy.decide({ tool: 'read_file', path: rel }).decision !== 'deny',
            ...(this.options.checkpoint
              ? { checkpoint: (rel: string) => this.options.checkpoint!(rel, call.toolCallId) }
              : {}),
          }),
        };
      } catch (err) {
        if (cancel?.aborted) return { error: 'cancelled by the user' };
        return { error: isBatonError(err) ? `${err.code}: ${err.message}` : (err as Error).message };
      }
    });
    if ('interrupted' in out)
      throw new ToolCallError(
        `this call was interrupted: the worker running it stopped before it finished, and ${tool.name} is not safe to repeat blindly. Check its effects (e.g. read the file) before calling it again.`,
      );
    if ('error' in out) throw new ToolCallError(out.error);
    return out.text;
  }

  /** The rules' decision on a call, audited. Runs once per call (its result is recorded). */
  private async decide(call: Call): Promise<Decision> {
    const tool = this.tools.get(call.toolName);
    // The SDK answers a call of an unknown tool itself; this guards a tool set changed under a replay.
    if (!tool)
      return {
        kind: 'error',
        message: `there is no tool '${call.toolName}'; the tools are ${[...this.tools.keys()].join(', ')}`,
      };
    const parsed = tool.input.safeParse(call.input);
    if (!parsed.success)
      return {
        kind: 'error',
        message: `the arguments do not match ${tool.name}'s schema: ${z.prettifyError(parsed.error)}`,
      };
    let subject: Omit<ToolCallSubject, 'tool'>;
    let unseen: string | null;
    try {
      subject = tool.subject(parsed.data, this.rt.sandbox);
      unseen = tool.askAnyway?.(parsed.data, this.rt.sandbox) ?? null;
    } catch (err) {
      // The sandbox refuses the path itself: no rule can allow it.
      const reason = (err as Error).message;
      await this.audit.write(
        this.entry(call, 'decide', { decision: 'deny', rule: 'sandbox', decidedBy: null, reason }),
      );
      return { kind: 'deny', rule: 'sandbox', reason };
    }
    let { decision, rule } = this.rt.policy.decide({ tool: tool.name, ...subject });
    if (decision === 'allow' && unseen !== null) {
      decision = 'ask';
      rule = `${rule} (asked: ${unseen})`;
    }
    const mode = this.options.mode?.() ?? 'default';
    if (mode === 'plan' && tool.effect !== 'read' && decision !== 'deny') {
      decision = 'deny';
      rule = 'plan mode (read-only tools only: describe the change instead of making it)';
    } else if (mode === 'accept-edits' && tool.effect === 'edit' && decision === 'ask' && unseen === null) {
      decision = 'allow';
      rule = 'accept-edits mode';
    }
    // What a session approval covers: the same tool, subject and circumstances.
    const key = JSON.stringify([tool.name, subject, unseen]);
    if (decision === 'ask' && this.session.has(key)) {
      decision = 'allow';
      rule = 'session: approved earlier in this run';
    }
    if (decision !== 'ask')
      await this.audit.write(
        this.entry(call, 'decide', {
          decision,
          rule,
          decidedBy: null,
          reason: decision === 'deny' ? `denied by ${rule}` : null,
        }),
      );
    if (decision === 'deny') return { kind: 'deny', rule, reason: `denied by ${rule}` };
    const permitted = { rule, args: parsed.data, subject, key, exact: unseen === null };
    return decision === 'allow' ? { kind: 'allow', ...permitted } : { kind: 'ask', ...permitted };
  }

  /** Asks a person (or, with no one to ask, denies): a durable wait on the approval's signal. */
  private async approve(
    call: Call,
    d: Permitted,
  ): Promise<{ approved: boolean; reason: string; fresh: boolean }> {
    const { ctx } = this;
    const approvalId = ctx.uuid();
    const wait = this.options.approvalTimeoutMs();
    let answer: ApprovalAnswer | null = null;
    if (wait !== undefined) {
      await ctx.step(`approval.request:${call.toolCallId}`, () =>
        this.approvals.request({
          id: approvalId,
          executionId: ctx.id,
          toolCallId: call.toolCallId,
          tool: this.toolName(call),
          arguments: maskSecrets(d.args),
          rule: d.rule,
          expiresAt: ctx.now().getTime() + wait,
        }),
      );
      answer = await ctx.waitForSignal<ApprovalAnswer>(approvalSignal(approvalId), { timeout: wait });
    }
    let fresh = false;
    const final = await ctx.step<ApprovalAnswer>(`approval.answer:${call.toolCallId}`, async () => {
      fresh = true;
      let a = answer;
      if (wait === undefined)
        a = {
          approved: false,
          by: 'headless',
          reason: 'no one to ask (no terminal): ask is deny; give an approval timeout to wait for a person',
          remember: 'once',
        };
      else if (a === null) {
        const late = await this.approvals.expire(approvalId);
        a =
          late && late.status !== 'pending' && late.status !== 'expired'
            ? {
                approved: late.status === 'approved',
                by: late.decidedBy ?? 'unknown',
                reason: late.reason,
                remember: late.remember ?? 'once',
              }
            : {
                approved: false,
                by: 'timeout',
                reason: `no answer within ${wait / 1000} s: a timeout is a deny`,
                remember: 'once',
              };
      }
      await this.audit.write(
        this.entry(call, 'answer', {
          decision: a.approved ? 'approved' : a.by === 'timeout' ? 'expired' : 'denied',
          rule: d.rule,
          decidedBy: a.by,
          reason: a.reason,
        }),
      );
      if (a.approved && a.remember === 'always' && d.exact) {
        const rule = exactRule({ tool: this.toolName(call), ...d.subject });
        if (rule) this.rt.always?.add(rule);
      }
      return a;
    });
    if (final.approved && final.remember !== 'once') this.session.add(d.key);
    return {
      approved: final.approved,
      reason: final.approved ? '' : `denied by ${final.by}${final.reason ? `: ${final.reason}` : ''}`,
      fresh,
    };
  }
}
