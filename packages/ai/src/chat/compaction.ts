// Compaction of a chat session's conversation, and the pinned ledger it never touches.
//
// The ledger: what the person told the assistant to do or not do (sentences of their messages
// with a directive: always, never, must, don't, only, prefer, from now on …, or that start with an
// order: "Use pnpm.", "Prefer small commits."), kept verbatim in
// the order given and sent with every turn as part of the instructions, never as conversation;
// a summary cannot drop what it never sees.
//
// Compaction: the conversation so far, as text, is summarised by the model (a durable LLM step);
// the conversation then goes on from that summary. The transcript it replaced is kept as the
// session's artifact `compaction-<turn>.txt` (`baton artifacts get <session> compaction-<turn>.txt`).
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
/** The most instructions the ledger holds; past that the oldest go (said in docs/chat.md). */
const MAX_PINS = 100;
/** What one message or tool result may add to the transcript a summary reads. */
const TRANSCRIPT_PART_CHARS = 2000;

/** The directive sentences of a typed message, verbatim (a question directs nothing). */
export function pinnedFrom(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !s.endsWith('?') && (DIRECTIVE.test(s) || ORDER.test(s)))
    .map((s) => (s.length > PIN_CHARS ? `${s.slice(0, PIN_CHARS)}…` : s));
}

/** The ledger with `found` added (once each, at most MAX_PINS, the oldest dropped), or null if unchanged. */
export function addPins(ledger: readonly string[], found: readonly string[]): string[] | null {
  const fresh = found.filter((p, i) => !ledger.includes(p) && found.indexOf(p) === i);
  return fresh.length ? [...ledger, ...fresh].slice(-MAX_PINS) : null;
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

/** The artifact that keeps the transcript compaction `turn` replaced. */
export const compactionArtifact = (turn: number) => `compaction-${turn}.txt`;

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
  // What was replaced is kept as the session's artifact `compaction-<turn>.txt`: a continue-as-new
  // drops old history, not artifacts.
  const text = transcript(messages);
  await ctx.step(`compact:${turn}`, async (s) => {
    const kept = await s.artifacts.put(compactionArtifact(turn), text, { mediaType: 'text/plain' });
    return kept.digest;
  });
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
