// What the chat screen shows, as data: entries that are final (they go to ink's <Static>, written
// once and never redrawn) and the live ones of the turn under way (text still streaming, tool calls
// still running). Parts of a turn arrive in order; an entry moves to `done` once it and every entry
// before it are final, so the screen's order is the turn's.
import type { TurnPart } from '@baton/ai';

export type Entry =
  | { id: number; kind: 'user'; text: string }
  | { id: number; kind: 'assistant'; text: string }
  | {
      id: number;
      kind: 'tool';
      callId: string;
      tool: string;
      input: unknown;
      output?: string;
      error?: boolean;
    }
  | { id: number; kind: 'note'; text: string; tone: 'info' | 'warn' | 'error' };

/** Token and cost totals of a session, as the status line shows them. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Whether a call had no known price (the cost is then a lower bound). */
  unpriced: boolean;
  /** Input tokens of the latest model call: how full the context window is. */
  lastInputTokens: number;
}

export const NO_USAGE: Usage = {
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  unpriced: false,
  lastInputTokens: 0,
};

export type NewEntry = Entry extends infer E ? (E extends Entry ? Omit<E, 'id'> : never) : never;

export class Transcript {
  readonly done: Entry[] = [];
  live: Entry[] = [];
  usage: Usage = { ...NO_USAGE };
  private nextId = 1;

  /** A final entry (a message typed, a note, a past turn). */
  add(entry: NewEntry): void {
    this.settle();
    this.done.push({ ...entry, id: this.nextId++ } as Entry);
  }

  /** One part of the turn under way. */
  apply(part: TurnPart): void {
    switch (part.type) {
      case 'text': {
        const last = this.live.at(-1);
        if (last?.kind === 'assistant') last.text += part.delta;
        else this.live.push({ id: this.nextId++, kind: 'assistant', text: part.delta });
        // A new array: the screen compares by reference.
        this.live = [...this.live];
        return;
      }
      case 'reasoning':
        return;
      case 'tool-call':
        this.live = [
          ...this.live,
          { id: this.nextId++, kind: 'tool', callId: part.id, tool: part.tool, input: part.input },
        ];
        break;
      case 'tool-result':
        this.live = this.live.map((e) =>
          e.kind === 'tool' && e.callId === part.id ? { ...e, output: part.output, error: part.error } : e,
        );
        break;
      case 'step':
        this.usage = {
          inputTokens: this.usage.inputTokens + part.inputTokens,
          outputTokens: this.usage.outputTokens + part.outputTokens,
          costUsd: this.usage.costUsd + (part.costUsd ?? 0),
          unpriced: this.usage.unpriced || part.costUsd === null,
          lastInputTokens: part.inputTokens,
        };
        break;
    }
    this.settle(true);
  }

  /** Ends the turn under way: whatever is live is final. */
  endTurn(): void {
    this.settle();
  }

  /**
   * Moves final entries from `live` to `done`: the leading ones that are final (a text followed by
   * anything, a tool call with its result), or all of them.
   */
  private settle(leadingOnly = false): void {
    let n = 0;
    if (!leadingOnly) n = this.live.length;
    else
      while (n < this.live.length) {
        const e = this.live[n]!;
        const final = e.kind === 'tool' ? e.output !== undefined : n < this.live.length - 1;
        if (!final) break;
        n++;
      }
    if (n === 0) return;
    this.done.push(...this.live.slice(0, n));
    this.live = this.live.slice(n);
  }
}
