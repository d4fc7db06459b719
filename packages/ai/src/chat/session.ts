// A chat session: one durable workflow per conversation. It takes a message (its first prompt, then
// each `chat.message` signal), runs an agent turn over the whole conversation (LLM calls, tool
// calls and approvals are steps of the workflow), publishes the turn's outcome as the event
// `turn:<n>`, and waits for the next message holding no memory. A killed process loses nothing: the
// next claim replays the recorded turns and goes on. Every so many turns the session continues as
// new with the conversation as its input, so a long session's history stays short.
import { BatonError, defineWorkflow, type WorkflowDefinition } from '@baton/core';
import type { ModelMessage } from 'ai';
import { Checkpoints } from './checkpoints.js';
import { addPins, compact, pinnedFrom, withLedger } from './compaction.js';
import {
  prepareAgent,
  runTurn,
  ToolCalls,
  type AgentResult,
  type AgentRuntime,
  type AgentSpec,
  type TurnPart,
} from '../agents/agent.js';
import type { ToolMode } from '../agents/modes.js';

/** The signal that brings a session its next message. */
export const CHAT_MESSAGE = 'chat.message';
/** Turns per run of the session's workflow before it continues as new (default). */
const TURNS_PER_RUN = 20;
/** The longest message a session takes. */
const MAX_MESSAGE_CHARS = 200_000;

/** What a session starts with (and carries over when it continues as new). */
export interface ChatInput {
  /** The project directory the session's tools work in: `-c` finds the latest session by it. */
  readonly project: string;
  /** Its first message. */
  readonly prompt: string;
  /** How long an ask waits for a person during the first turn (ms); absent: ask is deny. */
  readonly approvalTimeoutMs?: number;
  /** The first turn's mode. */
  readonly mode?: ToolMode;
  /** The provider (and model) the first turn asks for; absent: the agent's route. */
  readonly provider?: string;
  readonly model?: string;
  /** Compact after the first turn if its last model call was sent this many tokens or more. */
  readonly compactAtTokens?: number;
  /** Set when the session continues as new: the conversation so far, and the next turn's number. */
  readonly messages?: ModelMessage[];
  readonly turn?: number;
  /** Set when the session continues as new: the pinned ledger (see compaction.ts). */
  readonly pinned?: string[];
}

/** A message sent to a waiting session. */
export interface ChatMessage {
  readonly text: string;
  /** How long an ask waits for a person during this turn (ms); absent: ask is deny. */
  readonly approvalTimeoutMs?: number;
  /** What the tools of this turn may do beyond the rules (default: `default`). */
  readonly mode?: ToolMode;
  /** Compact the conversation now instead of taking a turn (`text`: what to focus the summary on). */
  readonly compact?: boolean;
  /** The provider (and model) this turn asks for (`/model`); absent: the agent's route. */
  readonly provider?: string;
  readonly model?: string;
  /**
   * Compact after this turn if its last model call was sent this many tokens or more (near the
   * model's context window); absent: only on request. Carried by the message, so recorded.
   */
  readonly compactAtTokens?: number;
}

/** What a turn published (`turn:<n>`). */
export interface TurnEvent extends AgentResult {
  readonly turn: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The conversation was compacted: on `/compact` (the text is the summary), or after the turn. */
  readonly compacted?: boolean;
}

/** The event a session publishes when it waits for a message: `{ next: <that message's turn> }`. */
export const STATE_EVENT = 'state';

/** The event that holds the pinned ledger (see compaction.ts) when it grows. */
export const LEDGER_EVENT = 'ledger';

/** The event key of turn `n`'s outcome. */
export const turnEvent = (n: number) => `turn:${n}`;

/** Checks a message before it reaches a session (E_INPUT_INVALID). */
export function checkMessage(text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '')
    throw new BatonError('E_INPUT_INVALID', 'the message is empty: say what you want done');
  if (text.length > MAX_MESSAGE_CHARS)
    throw new BatonError(
      'E_INPUT_INVALID',
      `the message has ${text.length} characters; at most ${MAX_MESSAGE_CHARS} (put long text in a file and name it)`,
    );
  return text;
}

export interface ChatSessionOptions {
  /** Turns per run before the session continues as new (default 20). */
  turnsPerRun?: number;
  /** Per-project bound of what checkpoints hold (default 200 MiB). */
  checkpointQuotaBytes?: number;
  /**
   * The project context a message comes with (a repository map: the files that rank best for it),
   * or null. Its result is recorded, so a replay sends the same conversation.
   */
  context?: (project: string, text: string) => Promise<string | null>;
  /** What this process shows of the turns it runs (the TUI; it is not part of the history). */
  live?: ChatLive;
}

/** A process's view of the sessions its worker runs: their parts as they stream, and cancels. */
export interface ChatLive {
  /**
   * Each part of turn `turn` of `session`, with its place in the turn. A replay (every message
   * replays the turns before it; an approval replays its own turn) gives the recorded parts again
   * from place 0: show each place once.
   */
  onPart?: (session: string, turn: number, part: TurnPart, index: number) => void;
  /** A person's cancel of the turn under way, if this process has one for it. */
  cancel?: (session: string, turn: number) => AbortSignal | undefined;
}

/** Defines the chat session workflow, `chat.<agent name>`, for an agent spec. */
export function defineChatSession(
  spec: AgentSpec,
  runtime: AgentRuntime | (() => AgentRuntime),
  options: ChatSessionOptions = {},
): WorkflowDefinition<ChatInput, never> {
  const turnsPerRun = options.turnsPerRun ?? TURNS_PER_RUN;
  const agent = prepareAgent(spec);
  const rt = typeof runtime === 'function' ? runtime : () => runtime;
  return defineWorkflow<ChatInput, never>(`chat.${spec.name}`, { queue: spec.queue }, async (ctx, input) => {
    const runtimeNow = rt();
    let approvalTimeoutMs = input.approvalTimeoutMs;
    let mode = input.mode;
    let chosen: { provider?: string; model?: string } = { provider: input.provider, model: input.model };
    let compactAt = input.compactAtTokens;
    const checkpoints = new Checkpoints(runtimeNow.ai.store.driver, options.checkpointQuotaBytes);
    let turn = input.turn ?? 1;
    let cancel: AbortSignal | undefined;
    // Every file a tool changes is kept first, under this turn, for undo.
    const calls = new ToolCalls(ctx, runtimeNow, agent.tools, {
      approvalTimeoutMs: () => approvalTimeoutMs,
      cancel: () => cancel,
      mode: () => mode ?? 'default',
      checkpoint: async (path, toolCallId) => {
        await checkpoints.keep({ project: runtimeNow.sandbox.root, session: ctx.id, turn, toolCallId, path });
      },
    });
    const messages: ModelMessage[] = [...(input.messages ?? [])];
    const pinned = [...(input.pinned ?? [])];
    // The summary is written by the model the turn asked for.
    const routed = () =>
      chosen.provider === undefined
        ? agent
        : prepareAgent({ ...spec, provider: chosen.provider, model: chosen.model });
    const compactNow = async (n: number, focus: string) => {
      const c = await compact(ctx, runtimeNow, routed().spec, messages, n, focus);
      messages.splice(0, messages.length, ...c.messages);
      return c;
    };
    const first = turn;
    const runIsFull = () => turn - first + 1 >= turnsPerRun;
    const goOnAsNew = () =>
      ctx.continueAsNew<ChatInput>({
        project: input.project,
        prompt: input.prompt,
        messages,
        turn: turn + 1,
        pinned,
      });
    let next: string | undefined = input.messages === undefined ? input.prompt : undefined;
    for (; ; turn++) {
      if (next === undefined) {
        // Says the session is idle, and which turn the next message will be.
        await ctx.setEvent(STATE_EVENT, { next: turn });
        const m = await ctx.waitForSignal<ChatMessage>(CHAT_MESSAGE);
        chosen = { provider: m?.provider, model: m?.model };
        if (m?.compact) {
          const c = await compactNow(turn, m.text);
          const event: TurnEvent = {
            text: c.summary,
            turns: 0,
            costUsd: c.costUsd,
            toolCalls: 0,
            stoppedBy: 'answer',
            turn,
            inputTokens: 0,
            outputTokens: 0,
            compacted: true,
          };
          await ctx.setEvent(turnEvent(turn), event as never);
          if (runIsFull()) await goOnAsNew();
          continue;
        }
        next = m?.text ?? '';
        approvalTimeoutMs = m?.approvalTimeoutMs;
        mode = m?.mode;
        compactAt = m?.compactAtTokens;
      }
      const text = next;
      next = undefined;
      // What the ledger gains is recorded: a later version's reading of the message must not change
      // a running session's history.
      const ledger = await ctx.step(`pins:${turn}`, () => addPins(pinned, pinnedFrom(text)));
      if (ledger) {
        pinned.splice(0, pinned.length, ...ledger);
        await ctx.setEvent(LEDGER_EVENT, pinned);
      }
      // Always a step, null without a context function: which process serves a turn must not
      // change the session's history.
      const context = await ctx.step(`context:${turn}`, () =>
        options.context ? options.context(input.project, text) : Promise.resolve(null),
      );
      messages.push({
        role: 'user',
        content: context ? `${text}\n\n<project-context>\n${context}\n</project-context>` : text,
      });
      const n = turn;
      let index = 0;
      cancel = options.live?.cancel?.(ctx.id, n);
      // Always streamed: a session's history must not depend on whether anyone is watching.
      // A turn that asks for a provider goes to it (and its model, or the one named).
      const out = await runTurn(
        ctx,
        routed(),
        runtimeNow,
        calls,
        { messages, system: withLedger(spec.system, pinned) },
        {
          cancel,
          onPart: (part) => options.live?.onPart?.(ctx.id, n, part, index++),
        },
      );
      messages.push(...out.messages);
      // Near the context window: the next turn starts from a summary (the ledger stays whole). A
      // compaction that fails leaves the conversation whole, and the turn's answer stands.
      let compacted: boolean | undefined;
      if (compactAt !== undefined && out.usage.lastInputTokens >= compactAt)
        compacted = await compactNow(turn, '').then(
          () => true,
          (err: unknown) => {
            ctx.log.warn({ err }, 'the conversation could not be compacted; it goes on whole');
            return false;
          },
        );
      const event: TurnEvent = {
        ...out.result,
        turn,
        inputTokens: out.usage.inputTokens,
        outputTokens: out.usage.outputTokens,
        ...(compacted === undefined ? {} : { compacted }),
      };
      await ctx.setEvent(turnEvent(turn), event as never);
      if (runIsFull()) await goOnAsNew();
    }
  });
}
