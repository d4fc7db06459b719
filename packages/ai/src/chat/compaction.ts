// Compaction of a chat session's conversation, and the pinned ledger it never touches.
//
// The ledger: what the person told the assistant to do or not do (sentences of their messages
// with a directive: always, never, must, don't, only, prefer, from now on …, or that start with an
// order: "Use pnpm.", "Prefer small commits."), kept verbatim in
// the order given and sent with every turn as part of the instructions, never as conversation;
// a summary cannot drop what it never sees.
//
// Compaction: the conversation so far, as text, is summarised by the model (a durable LLM step);
// the conversation then goes on from that summary. The step `compact:<turn>` records the
// transcript it replaced as its input, so a compaction can be inspected (`baton workflows show`).
import type { WorkflowContext } from '@baton/core';
import type { ModelMessage } from 'ai';
import type { AgentRuntime, AgentSpec } from '../agents/agent.js';

/** A sentence that tells the assistant how to work. */
const DIRECTIVE =
  /\b(always|never|must|mustn't|must not|don't|do not|avoid|only|prefer|make sure|remember|from now on|instead of|keep|stop|no more)\b/i;

/** A sentence that starts with a standing order ("Use pnpm.", "Prefer small commits."), not a task. */
const ORDER = /^(use|prefer|keep|answer|reply)\b/i;

/** The longest pinned sentence kept whole; longer ones are kept up to here. */
const PIN_CHARS = 500;
/** What one message or tool result may add to the transcript a summary reads. */
const TRANSCRIPT_PART_CHARS = 2000;

/** The directive sentences of a typed message, verbatim. */
export function pinnedFrom(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && (DIRECTIVE.test(s) || ORDER.test(s)))
    .map((s) => (s.length > PIN_CHARS ? `${s.slice(0, PIN_CHARS)}…` : s));
}

/** The agent's instructions with the ledger after them. */
export function withLedger(system: string, pinned: readonly string[]): string {
  if (pinned.length === 0) return system;
  return `${system}\n\n<user-instructions note="what the user asked for during this session, verbatim; they stand until the user says otherwise">\n${pinned.map((p) => `- ${p}`).join('\n')}\n</user-instructions>`;
}

const cut = (s: string) =>
  s.length > TRANSCRIPT_PART_CHARS ? `${s.slice(0, TRANSCRIPT_PART_CHARS)} […]` : s;

/** The conversation as plain text (any provider can read it; no tool definitions needed). */
export function transcript(messages: readonly ModelMessage[]): string {
  const lines: string[] = [];
  for (const m of messages) {
    if (typeof m.content === 'string') {
      lines.push(`${m.role}: ${cut(m.content)}`);
      continue;
    }
    for (const p of m.content as { type: string; [k: string]: unknown }[]) {
      if (p.type === 'text') lines.push(`${m.role}: ${cut(String(p.text))}`);
      else if (p.type === 'tool-call')
        lines.push(`assistant called ${String(p.toolName)} ${cut(JSON.stringify(p.input))}`);
      else if (p.type === 'tool-result') {
        const out = p.output as { value?: unknown } | undefined;
        const value = typeof out?.value === 'string' ? out.value : JSON.stringify(out?.value ?? null);
        lines.push(`${String(p.toolName)} returned: ${cut(value)}`);
      }
    }
  }
  return lines.join('\n');
}

const SUMMARY_SYSTEM = [
  'You summarise a coding session so that you can continue it from the summary alone.',
  'Keep: the goal; what was done (files read and changed, commands run and their results); what is pending; open questions; names, paths and numbers exactly as they were.',
  "Leave out the user's standing instructions: they are kept separately and will be given to you.",
  'Write plain text, at most 400 words.',
].join('\n');

export interface Compacted {
  /** The conversation that replaces the one compacted. */
  messages: ModelMessage[];
  summary: string;
  costUsd: number;
}

/** Compacts `messages` (turn `turn`, optionally with a focus the person gave). */
export async function compact(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  spec: AgentSpec,
  messages: readonly ModelMessage[],
  turn: number,
  focus: string,
): Promise<Compacted> {
  // The record of what was replaced: the step's input is the transcript before compaction.
  const text = await ctx.step(`compact:${turn}`, (s) => s.input, { input: transcript(messages) });
  let cost = 0;
  const r = await runtime.ai.in(ctx).generate({
    useCase: spec.useCase,
    taskType: spec.taskType,
    provider: spec.provider,
    model: spec.model,
    system: SUMMARY_SYSTEM,
    prompt: `${focus ? `Focus the summary on: ${focus}\n\n` : ''}The session so far:\n\n${text}`,
  });
  const c = (r.providerMetadata?.baton as { cost?: number | null } | undefined)?.cost;
  if (typeof c === 'number') cost = c;
  const summary = r.text.trim();
  return {
    summary,
    costUsd: cost,
    messages: [
      {
        role: 'user',
        content: `<summary-of-earlier-conversation turn="${turn}">\n${summary}\n</summary-of-earlier-conversation>`,
      },
      { role: 'assistant', content: 'Understood: I will go on from this summary.' },
    ],
  };
}
