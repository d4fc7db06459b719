// A stored session read back for the screen: the conversation a continued-as-new run carries in its
// input, then this run's history in order (messages by signal, tool calls by their steps, answers by
// the `turn:<n>` events). A turn with a message and no answer yet was interrupted.
import type { Client, HistoryEntry } from '@baton/core';
import { CHAT_MESSAGE, type ChatInput, type ChatMessage, type TurnEvent } from '@baton/ai';
import type { ModelMessage } from 'ai';
import type { NewEntry } from '../chat-ui/transcript.js';

/** What the model was sent of a message: the typed text, without the project context after it. */
const typed = (content: string) => content.replace(/\n\n<project-context>[\s\S]*$/, '');

function fromMessages(messages: readonly ModelMessage[]): NewEntry[] {
  const out: NewEntry[] = [];
  const results = new Map<string, { output: string; error: boolean }>();
  for (const m of messages)
    if (m.role === 'tool')
      for (const p of m.content)
        if (p.type === 'tool-result') {
          const o = p.output as { type: string; value: unknown };
          results.set(p.toolCallId, {
            output: typeof o.value === 'string' ? o.value : JSON.stringify(o.value),
            error: o.type.startsWith('error'),
          });
        }
  for (const m of messages) {
    if (m.role === 'user')
      out.push({ kind: 'user', text: typed(typeof m.content === 'string' ? m.content : '') });
    if (m.role !== 'assistant') continue;
    if (typeof m.content === 'string') {
      out.push({ kind: 'assistant', text: m.content });
      continue;
    }
    for (const p of m.content) {
      if (p.type === 'text' && p.text) out.push({ kind: 'assistant', text: p.text });
      if (p.type === 'tool-call')
        out.push({
          kind: 'tool',
          callId: p.toolCallId,
          tool: p.toolName,
          input: p.input,
          ...(results.get(p.toolCallId) ?? { output: '', error: false }),
        });
    }
  }
  return out;
}

/** The tool entry of a `tool:<name>:<id>` step, its input from the call's decision step. */
function toolEntry(e: HistoryEntry, decisions: Map<string, unknown>): NewEntry | null {
  const m = /^tool:([^:]+):(.+)$/.exec(e.name);
  if (!m) return null;
  const out = (e.output ?? {}) as { text?: string; error?: string; interrupted?: true };
  return {
    kind: 'tool',
    callId: m[2]!,
    tool: m[1]!,
    input: decisions.get(m[2]!) ?? {},
    output: out.text ?? out.error ?? 'interrupted',
    error: out.text === undefined,
  };
}

export interface StoredSession {
  entries: NewEntry[];
  /** The messages typed, oldest first (the input's Up arrow). */
  sent: string[];
  /** The number of a turn that has its message and no answer (interrupted), if any. */
  interrupted: number | null;
}

export async function storedSession(client: Client, id: string): Promise<StoredSession> {
  const e = await client.describe(id);
  const input = e.input as unknown as ChatInput;
  const entries: NewEntry[] = input.messages ? fromMessages(input.messages) : [];
  if (!input.messages) entries.push({ kind: 'user', text: input.prompt });
  const decisions = new Map<string, unknown>();
  let turn = input.turn ?? 1;
  let answered = !input.messages ? false : true;
  for (const h of e.history) {
    const decided = /^tool\.decide:(.+)$/.exec(h.name);
    if (decided) decisions.set(decided[1]!, (h.output as { args?: unknown } | null)?.args);
    const tool = h.kind === 'step' && h.status !== 'waiting' ? toolEntry(h, decisions) : null;
    if (tool) entries.push(tool);
    if (h.kind === 'event' && /^turn:\d+$/.test(h.name)) {
      const t = h.output as TurnEvent;
      // A /compact's event holds the summary the conversation went on from.
      if (t.compacted && t.turns === 0)
        entries.push({ kind: 'note', text: `(compacted: ${t.text})`, tone: 'info' });
      else entries.push({ kind: 'assistant', text: t.text });
      if (t.compacted && t.turns > 0)
        entries.push({
          kind: 'note',
          text: '(the conversation was compacted after this turn)',
          tone: 'info',
        });
      if (t.stoppedBy !== 'answer')
        entries.push({ kind: 'note', text: `(turn ${t.turn} stopped by ${t.stoppedBy})`, tone: 'warn' });
      answered = true;
      turn = t.turn + 1;
    }
    if (h.kind === 'signal' && h.name === CHAT_MESSAGE && h.status === 'completed') {
      // A signal's entry holds what it brought as its payload.
      const m = (h.output as { payload?: ChatMessage } | null)?.payload;
      entries.push({ kind: 'user', text: m?.compact ? `/compact ${m.text}`.trim() : (m?.text ?? '') });
      answered = false;
    }
  }
  const sent = entries.filter((x) => x.kind === 'user').map((x) => (x as { text: string }).text);
  return { entries, sent, interrupted: answered ? null : turn };
}
