// `baton chat -p`: one message, its answer printed as text, one JSON object, or NDJSON events (the
// session, each part of the turn as it streams, the turn, the result); the exit code says how it
// went: 0 done, 2 refused by the policy or a budget (1, an error, is the CLI's).
import type { Store } from '@baton/core';
import { AuditLog, type TurnEvent, type TurnPart } from '@baton/ai';
import type { Io } from '../context.js';
import { askAtTerminal } from './approval-prompt.js';
import type { SessionController } from './chat-controller.js';

export const FORMATS = ['text', 'json', 'stream-json'] as const;
export type Format = (typeof FORMATS)[number];

/** Decisions that refused a tool call. */
const REFUSED = new Set(['deny', 'denied', 'expired']);

/** A turn's outcome as `--output-format json` prints it. */
function resultJson(session: string, t: TurnEvent, refused: number) {
  return {
    session,
    result: t.text,
    usage: { input_tokens: t.inputTokens, output_tokens: t.outputTokens },
    cost: t.costUsd,
    turns: t.turns,
    tool_calls: t.toolCalls,
    stopped_by: t.stoppedBy,
    refused_calls: refused,
  };
}

export interface Headless {
  store: Store;
  format: Format;
  /** Ask at this terminal (-p at a TTY with --approval-timeout). */
  askHere: boolean;
}

/** Sends `text` and prints its turn; the exit code it calls for. */
export async function headlessTurn(
  controller: SessionController,
  text: string,
  h: Headless,
  io: Io,
): Promise<number> {
  const emit = (event: Record<string, unknown>) =>
    h.format === 'stream-json' && io.out(JSON.stringify(event));
  const since = Date.now();
  let asking: Promise<void> | undefined;
  let ended!: () => void;
  const turnEnded = new Promise<void>((resolve) => (ended = resolve));
  const sent = controller.send(text, 'default', (part: TurnPart) => emit(part), {
    onStart: (session, resumed) => {
      emit({ type: 'session', session, resumed });
      if (h.askHere) asking = askAtTerminal(h.store, session, turnEnded, io);
    },
    onInterrupted: (t) => {
      emit({ type: 'turn', interrupted: true, ...t });
      if (h.format === 'text') io.err(`(turn ${t.turn} was interrupted, and has now finished)\n${t.text}\n`);
    },
  });
  let t: TurnEvent;
  try {
    t = await sent;
  } finally {
    ended();
    await asking;
  }
  const session = controller.session!;
  const refused = (await new AuditLog(h.store.driver).list({ executionId: session, since })).filter((a) =>
    REFUSED.has(a.decision),
  ).length;
  emit({ type: 'turn', interrupted: false, ...t });
  if (h.format === 'json') io.out(JSON.stringify(resultJson(session, t, refused), null, 2));
  else if (h.format === 'stream-json') emit({ type: 'result', ...resultJson(session, t, refused) });
  else {
    io.out(t.text);
    io.err(
      `turn ${t.turn}: ${t.turns} model steps, ${t.toolCalls} tool calls${refused ? ` (${refused} refused)` : ''}, ${t.inputTokens} in / ${t.outputTokens} out, $${t.costUsd.toFixed(4)}${t.stoppedBy === 'answer' ? '' : `; stopped by ${t.stoppedBy}`}  (session ${session})`,
    );
  }
  return refused > 0 || t.stoppedBy === 'budget' ? 2 : 0;
}
