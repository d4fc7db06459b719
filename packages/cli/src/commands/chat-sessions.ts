// The sessions of a project as the chat commands find them, and the waits on a session's turns.
import { BatonError, Client, isBatonError, type Execution } from '@baton/core';
import {
  CHAT_MESSAGE,
  CODER,
  STATE_EVENT,
  turnEvent,
  type ChatInput,
  type TurnEvent,
  type Undone,
  type UsageLedger,
} from '@baton/ai';

/** The session workflow's name (Baton's coder). */
export const SESSION = `chat.${CODER.name}`;

/** The sessions of `project`, newest first. */
export async function sessionsOf(client: Client, project: string): Promise<Execution[]> {
  const all = await client.list({ kind: 'workflow', name: SESSION, limit: 200 });
  return all.filter((e) => (e.input as Partial<ChatInput> | null)?.project === project);
}

/** How long ago: 5m, 3h, 2d. */
function age(at: Date): string {
  const minutes = Math.round((Date.now() - at.getTime()) / 60_000);
  return minutes < 60
    ? `${minutes}m`
    : minutes < 2880
      ? `${Math.round(minutes / 60)}h`
      : `${Math.round(minutes / 1440)}d`;
}

/** One line per session: id, age, status and first prompt (for `-r` without an id, and errors). */
export function sessionLines(sessions: readonly Execution[]): string {
  if (sessions.length === 0) return '  (none yet: start one with baton chat -p "…")';
  return sessions
    .slice(0, 10)
    .map((e) => {
      const prompt = ((e.input as Partial<ChatInput> | null)?.prompt ?? '').replace(/\s+/g, ' ');
      return `  ${e.id}  ${age(e.createdAt).padStart(4)} ago  ${e.status.padEnd(9)}  ${prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt}`;
    })
    .join('\n');
}

/** Waits for turn `n`'s event, or for the session to end (an error). */
export async function turnOf(client: Client, id: string, n: number): Promise<TurnEvent> {
  for (let delay = 10; ; delay = Math.min(200, delay * 2)) {
    const t = await client.getEvent<TurnEvent>(id, turnEvent(n));
    if (t) return t;
    const e = await client.get(id);
    if (e.status === 'failed' || e.status === 'cancelled' || e.status === 'completed')
      throw new BatonError(
        e.error?.code === 'E_BUDGET_EXCEEDED' ? 'E_BUDGET_EXCEEDED' : 'E_INVALID_STATE',
        `session ${id} ${e.status}${e.error ? `: ${e.error.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Waits until the session waits for a message, finishing an interrupted turn first (`onResumed`
 * gets it); the number the next message's turn will have.
 */
export async function idle(client: Client, id: string, onResumed: (t: TurnEvent) => void): Promise<number> {
  for (;;) {
    const e = await client.describe(id);
    if (e.status === 'failed' || e.status === 'cancelled' || e.status === 'completed')
      throw new BatonError(
        'E_INVALID_STATE',
        `session ${id} ${e.status}: start a new one (baton chat -p "…")`,
      );
    // Before each wait for a message the session publishes which turn that message will be.
    const state = await client.getEvent<{ next: number }>(id, STATE_EVENT);
    const last = e.history.at(-1);
    const waiting = last?.kind === 'signal' && last.name === CHAT_MESSAGE && last.status === 'waiting';
    if (e.status === 'waiting' && waiting && state) return state.next;
    // A turn is under way: one a killed process left, which this process's worker takes over.
    const n = state?.next ?? 1;
    if (!(await client.getEvent(id, turnEvent(n)))) onResumed(await turnOf(client, id, n));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The session `-s` names, else the project's latest. */
export async function sessionFor(client: Client, root: string, id: string | undefined): Promise<string> {
  if (id !== undefined) {
    const e = await client.get(id).catch((err: unknown) => {
      if (isBatonError(err, 'E_NOT_FOUND')) return undefined;
      throw err;
    });
    if (e?.name === SESSION) return e.id;
    throw new BatonError(
      'E_NOT_FOUND',
      `no chat session '${id}' here; the recent ones:\n${sessionLines(await sessionsOf(client, root))}`,
    );
  }
  const latest = (await sessionsOf(client, root))[0];
  if (!latest) throw new BatonError('E_NOT_FOUND', `no session of ${root} yet`);
  return latest.id;
}

/** The lines `undo` prints. */
export function undoneLines(undone: Undone): string[] {
  const turns = undone.turns.length === 1 ? `turn ${undone.turns[0]}` : `turns ${undone.turns.join(', ')}`;
  return [`undid ${turns}:`, ...undone.files.map((f) => `  ${f.action} ${f.path}`)];
}

/** The picker's lines for `-r`: the latest message (its title), age, cost, and the first prompt. */
export async function pickItems(
  client: Client,
  usage: UsageLedger,
  project: string,
): Promise<{ id: string; line: string }[]> {
  const sessions = (await sessionsOf(client, project)).slice(0, 15);
  return Promise.all(
    sessions.map(async (e) => {
      const calls = await usage.callsOf(e.id);
      const cost = calls.reduce((n, c) => n + (c.cost ?? 0), 0);
      const history = (await client.describe(e.id)).history;
      const input = e.input as Partial<ChatInput> | null;
      const last = history
        .filter((h) => h.kind === 'signal' && h.name === CHAT_MESSAGE && h.status === 'completed')
        .at(-1);
      const title = (
        (last?.output as { payload?: { text?: string } } | null)?.payload?.text ??
        input?.prompt ??
        ''
      ).replace(/\s+/g, ' ');
      const first = (input?.prompt ?? '').replace(/\s+/g, ' ');
      const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
      return {
        id: e.id,
        line: `${cut(title, 40).padEnd(40)}  ${age(e.createdAt).padStart(4)} ago  $${cost.toFixed(4)}  ${cut(first, 50)}`,
      };
    }),
  );
}
