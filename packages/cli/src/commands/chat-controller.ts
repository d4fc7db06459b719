// What `baton chat`'s screen (and -p's stream-json) is given of a session served by this process:
// its turns' parts as they stream (LiveTurns: keyed by session and turn, since a message replays the
// session's earlier turns too), sending a message, a cancel, the approvals it waits on, and the
// slash commands that read or change the store.
import { userInfo } from 'node:os';
import { BatonError, Client, newId, type Store, type WorkflowDefinition } from '@baton/core';
import {
  ApprovalStore,
  CHAT_MESSAGE,
  CODER,
  LEDGER_EVENT,
  Checkpoints,
  contextWindow,
  type ContextStore,
  resolveRoute,
  type AgentRuntime,
  type AiConfig,
  type Approval,
  type ChatInput,
  type ChatLive,
  type ChatMessage,
  type ProviderKind,
  type ToolMode,
  type TurnEvent,
  type TurnPart,
} from '@baton/ai';
import type { PermissionRuleLists } from '@baton/core';
import type { ChatController, SessionHistory } from '../chat-ui/app.js';
import type { ApprovalChoice } from '../chat-ui/approval.js';
import type { StatusInfo } from '../chat-ui/status.js';
import { NO_USAGE, type NewEntry, type Usage } from '../chat-ui/transcript.js';
import { storedSession } from './chat-history.js';
import { idle, sessionFor, sessionLines, sessionsOf, turnOf, undoneLines } from './chat-sessions.js';

/** The turns this process watches: one per session, the turn its message will be. */
export class LiveTurns implements ChatLive {
  private readonly watched = new Map<
    string,
    { turn: number; onPart: (p: TurnPart) => void; cancel: AbortController; shown: number }
  >();

  onPart = (session: string, turn: number, part: TurnPart, index: number): void => {
    const w = this.watched.get(session);
    // A replay of the turn gives its parts again: each is shown once.
    if (w?.turn !== turn || index < w.shown) return;
    w.shown = index + 1;
    w.onPart(part);
  };

  cancel = (session: string, turn: number): AbortSignal | undefined => {
    const w = this.watched.get(session);
    return w?.turn === turn ? w.cancel.signal : undefined;
  };

  /** Watches turn `turn` of `session`; the controller that cancels it. */
  watch(session: string, turn: number, onPart: (p: TurnPart) => void): AbortController {
    const cancel = new AbortController();
    this.watched.set(session, { turn, onPart, cancel, shown: 0 });
    return cancel;
  }

  unwatch(session: string): void {
    this.watched.delete(session);
  }
}

/** The provider and model that answer the coder first, and its context window when known. */
export function routeInfo(config: AiConfig, chosen: { provider?: string; model?: string } = {}): StatusInfo {
  const route = resolveRoute(config, chosen.provider === undefined ? CODER : chosen);
  const provider = route.order[0] ?? '(none)';
  const settings = config.llm_providers?.providers?.[provider];
  const model = route.model ?? settings?.model ?? '(unknown)';
  const kind = (settings?.type ?? provider) as ProviderKind;
  return { provider, model, contextWindow: contextWindow(kind, model) };
}

export interface SessionDeps {
  store: Store;
  workflow: WorkflowDefinition<ChatInput, never>;
  runtime: AgentRuntime;
  live: LiveTurns;
  root: string;
  /** How long an ask waits for a person (ms); undefined: ask is deny (headless). */
  approvalTimeoutMs: number | undefined;
  /** The project index, shared with the context each message carries (one scan in memory). */
  index: ContextStore;
  /** The rules in force (for /permissions). */
  rules: PermissionRuleLists;
  /** A session to go on with (-c, -r). */
  session?: string;
  /** `--compact-at`: compact after a turn sent this many tokens (undefined: 80% of the window). */
  compactAt: number | undefined;
}

/** Where a conversation is compacted when `--compact-at` does not say: 80% of the model's window. */
const compactionPoint = (info: StatusInfo) =>
  info.contextWindow ? Math.floor(info.contextWindow * 0.8) : 100_000;

export class SessionController implements ChatController {
  info: StatusInfo;
  /** The provider and model `/model` chose (each message carries them); empty: the coder's route. */
  private chosen: { provider?: string; model?: string } = {};
  private readonly client: Client;
  private readonly approvalStore: ApprovalStore;
  private readonly checkpoints: Checkpoints;
  private id: string | undefined;
  private running: AbortController | undefined;

  constructor(private readonly deps: SessionDeps) {
    this.info = routeInfo(deps.runtime.ai.config);
    this.client = new Client(deps.store);
    this.approvalStore = new ApprovalStore(deps.store.driver);
    this.checkpoints = new Checkpoints(deps.store.driver);
    this.id = deps.session;
  }

  get session(): string | undefined {
    return this.id;
  }

  async history(): Promise<SessionHistory> {
    if (this.id === undefined) return { entries: [], usage: { ...NO_USAGE }, sent: [] };
    const id = this.id;
    const stored = await storedSession(this.client, id);
    const entries = [{ kind: 'note', text: `session ${id}`, tone: 'info' } as NewEntry, ...stored.entries];
    const usage = await this.usage();
    const n = stored.interrupted;
    if (n === null) return { entries, usage, sent: stored.sent };
    entries.push({
      kind: 'note',
      text: `(turn ${n} was interrupted: it is finishing, once the process that ran it has let go of it)`,
      tone: 'warn',
    });
    // This process's worker takes the session over and finishes the turn: its answer, when it comes.
    const finished = turnOf(this.client, id, n).then((t): NewEntry[] => [
      { kind: 'assistant', text: t.text },
      { kind: 'note', text: `(turn ${n}, interrupted, has now finished)`, tone: 'info' },
    ]);
    return { entries, usage, sent: stored.sent, finished };
  }

  /** What the session's calls cost, from the usage ledger (all its runs). */
  private async usage(): Promise<Usage> {
    if (this.id === undefined) return { ...NO_USAGE };
    const calls = await this.deps.runtime.ai.usage.callsOf(this.id);
    const u = { ...NO_USAGE };
    for (const c of calls) {
      u.inputTokens += c.inputTokens ?? 0;
      u.outputTokens += c.outputTokens ?? 0;
      if (c.outcome === 'ok' && c.cost === null) u.unpriced = true;
      u.costUsd += c.cost ?? 0;
      if (c.outcome === 'ok') u.lastInputTokens = c.inputTokens ?? 0;
    }
    return u;
  }

  /**
   * Sends `text` (the first message starts the session); parts of its turn go to `onPart`.
   * `hooks.onStart` hears the session's id before the message goes; `hooks.onInterrupted`
   * an interrupted turn finished before this one.
   */
  async send(
    text: string,
    mode: ToolMode,
    onPart: (part: TurnPart) => void,
    hooks: { onStart?: (id: string, resumed: boolean) => void; onInterrupted?: (t: TurnEvent) => void } = {},
  ): Promise<TurnEvent> {
    const { client, deps } = this;
    const resumed = this.id !== undefined;
    // The id is chosen here for a new session (time-ordered, as the engine's are: the latest
    // session sorts first), so its first turn is watched before any worker can start it.
    const id = this.id ?? newId();
    hooks.onStart?.(id, resumed);
    const n = resumed ? await idle(client, id, hooks.onInterrupted ?? (() => undefined)) : 1;
    this.running = deps.live.watch(id, n, onPart);
    try {
      if (!resumed) {
        await client.start(
          deps.workflow,
          { project: deps.root, prompt: text, ...this.turnOptions(mode) },
          { id },
        );
        this.id = id;
      } else {
        const message: ChatMessage = { text, ...this.turnOptions(mode) };
        await client.signal(id, CHAT_MESSAGE, message);
      }
      return await turnOf(client, id, n);
    } finally {
      deps.live.unwatch(id);
      this.running = undefined;
    }
  }

  /** What a message carries besides its text (an absent timeout: ask is deny). */
  private turnOptions(mode: ToolMode): {
    mode: ToolMode;
    approvalTimeoutMs?: number;
    provider?: string;
    model?: string;
    compactAtTokens: number;
  } {
    const ms = this.deps.approvalTimeoutMs;
    return {
      mode,
      compactAtTokens: this.deps.compactAt ?? compactionPoint(this.info),
      ...(ms === undefined ? {} : { approvalTimeoutMs: ms }),
      ...(this.chosen.provider === undefined ? {} : { provider: this.chosen.provider }),
      ...(this.chosen.model === undefined ? {} : { model: this.chosen.model }),
    };
  }

  cancel(): void {
    this.running?.abort();
  }

  approvals(): Promise<Approval[]> {
    return this.id === undefined ? Promise.resolve([]) : this.approvalStore.list('pending', 100, this.id);
  }

  async answer(id: string, choice: ApprovalChoice): Promise<void> {
    await this.approvalStore.decide(this.deps.store, id, {
      approved: choice.approved,
      by: userInfo().username,
      reason: choice.approved ? null : choice.reason,
      remember: choice.approved ? choice.remember : 'once',
    });
  }

  budgetWarning(): Promise<string | null> {
    return this.deps.runtime.ai.budgetWarning();
  }

  async command(name: string, args: string): Promise<string[]> {
    const { deps } = this;
    switch (name) {
      case 'clear': {
        const was = this.id;
        this.id = undefined;
        return [
          `a new session starts with your next message${was ? ` (the last one stays: baton chat -r ${was})` : ''}`,
        ];
      }
      case 'sessions':
        return [`recent sessions of ${deps.root}:`, sessionLines(await sessionsOf(this.client, deps.root))];
      case 'resume': {
        if (!args) return ['/resume <id>: one of', sessionLines(await sessionsOf(this.client, deps.root))];
        this.id = await sessionFor(this.client, deps.root, args);
        const stored = await storedSession(this.client, this.id);
        const last = stored.entries.filter((e) => e.kind === 'assistant').at(-1) as
          { text: string } | undefined;
        return [
          `resumed ${this.id}: ${stored.sent.length} messages${last ? `; its last answer:\n${last.text}` : ''}`,
        ];
      }
      case 'undo': {
        if (this.id === undefined) return ['nothing to undo yet'];
        const n = args ? Number(args) : 1;
        if (!Number.isInteger(n) || n < 1)
          throw new BatonError('E_INVALID_OPTION', `/undo takes a number of turns, got '${args}'`);
        return undoneLines(await this.checkpoints.undo(this.id, deps.root, n));
      }
      case 'model': {
        const config = deps.runtime.ai.config;
        const [provider, model] = args.split(/\s+/).filter(Boolean);
        if (provider === undefined) {
          const all = Object.entries(config.llm_providers?.providers ?? {}).map(
            ([n, p]) => `  ${n}: ${p.model}`,
          );
          return [
            `answering: ${this.info.provider}/${this.info.model}`,
            'configured (llm_providers.yaml):',
            ...all,
            '/model <provider> [model] switches, from the next message',
          ];
        }
        // Refuses a provider the configuration does not have, naming those it has.
        this.info = routeInfo(config, { provider, model });
        this.chosen = { provider, model };
        return [`from the next message: ${this.info.provider}/${this.info.model}`];
      }
      case 'tools':
        return CODER.tools.map((t) => {
          const v = deps.runtime.policy.decide({ tool: t.name });
          const effect =
            t.effect === 'read' ? 'reads' : t.effect === 'edit' ? 'edits files' : 'runs programs';
          return `${t.name.padEnd(12)} ${effect.padEnd(13)} ${v.decision}${v.rule ? ` (${v.rule})` : ' (no rule matches)'}`;
        });
      case 'permissions': {
        const lines: string[] = [];
        for (const list of ['deny', 'ask', 'allow'] as const)
          lines.push(`${list}:`, ...(deps.rules[list] ?? []).map((r) => `  ${r}`));
        lines.push('unmatched calls are asked; Shift+Tab changes the mode');
        return lines;
      }
      case 'compact': {
        if (this.id === undefined) return ['nothing to compact yet'];
        const id = this.id;
        const n = await idle(this.client, id, () => undefined);
        const message: ChatMessage = { text: args, compact: true, ...this.turnOptions('default') };
        await this.client.signal(id, CHAT_MESSAGE, message);
        const t = await turnOf(this.client, id, n);
        return [`compacted the conversation; it goes on from this summary:`, t.text];
      }
      case 'context': {
        const scan = await deps.index.scan(deps.root);
        const space = await this.checkpoints.usage(deps.root);
        const pinned =
          this.id === undefined ? [] : ((await this.client.getEvent<string[]>(this.id, LEDGER_EVENT)) ?? []);
        return [
          pinned.length
            ? `pinned (sent with every turn, never compacted):\n${pinned.map((p) => `  - ${p}`).join('\n')}`
            : 'pinned: nothing yet (instructions such as "always …", "never …", "use …" are kept here)',
          `project index: ${scan.index.size} files (${scan.changed.length} changed since the last scan)`,
          scan.skipped.length
            ? `skipped ${scan.skipped.length}:\n${scan.skipped
                .slice(0, 20)
                .map((s) => `  ${s.path}: ${s.reason}`)
                .join('\n')}`
            : 'skipped: none',
          `checkpoints: ${space.checkpoints}, holding ${space.bytes} bytes (baton chat gc bounds them)`,
        ];
      }
      default:
        throw new BatonError('E_INVALID_OPTION', `unknown command /${name}; /help lists them`);
    }
  }
}
