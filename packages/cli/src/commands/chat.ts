// `baton chat`: a conversation with Baton's coder on a project, kept as a durable workflow in the
// store (the project's .baton/ by default, ~/.baton with --global). This process serves the session
// while it talks to it; between turns the session waits in the store, holding no memory, so a kill
// loses nothing and `-c` or `-r <id>` goes on where it stopped (an interrupted turn is finished
// first, and shown as such). `-p` is headless: one message, its answer printed as text, JSON or
// NDJSON events, and an exit code (0 done, 1 error, 2 refused by policy or budget). At a terminal
// without -p, each line typed is a message (the full-screen UI is to come).
import { createInterface } from 'node:readline/promises';
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  BatonError,
  Client,
  Worker,
  isBatonError,
  parsePermissionRule,
  toMs,
  type Execution,
  type Store,
  type WorkflowDefinition,
} from '@baton/core';
import {
  AuditLog,
  CHAT_MESSAGE,
  Checkpoints,
  DEFAULT_CHECKPOINT_QUOTA_BYTES,
  migrateAi,
  ContextStore,
  GitHistory,
  rankFiles,
  readGitLog,
  repoMap,
  projectMemory,
  withProjectMemory,
  type Undone,
  CODER,
  STATE_EVENT,
  checkMessage,
  defineChatSession,
  turnEvent,
  type ChatInput,
  type ChatMessage,
  type TurnEvent,
} from '@baton/ai';
import { loadConfig } from '@baton/flows';
import { DEFAULT_DATA_DIR, makeLogger, openStore, type GlobalOptions, type Io } from '../context.js';
import { agentRuntime } from './ai-context.js';
import { reportingConfigErrors } from './config.js';
import { askAtTerminal } from './approval-prompt.js';
import { directoryOption } from './options.js';
import { ExitCode } from './ta.js';

const FORMATS = ['text', 'json', 'stream-json'] as const;
type Format = (typeof FORMATS)[number];
/** The session workflow's name (Baton's coder). */
const SESSION = `chat.${CODER.name}`;
/** Decisions that refused a tool call. */
const REFUSED = new Set(['deny', 'denied', 'expired']);

interface ChatOptions {
  print?: string;
  continue?: boolean;
  resume?: string | true;
  outputFormat: string;
  maxTurns?: string;
  contextBudget: string;
  allow?: string[];
  approvalTimeout?: string;
  root: string;
  global?: boolean;
}

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

/** The sessions of `project`, newest first. */
async function sessionsOf(client: Client, project: string): Promise<Execution[]> {
  const all = await client.list({ kind: 'workflow', name: SESSION, limit: 200 });
  return all.filter((e) => (e.input as Partial<ChatInput> | null)?.project === project);
}

/** One line per session: id, age, status and first prompt (for `-r` without an id, and errors). */
function sessionLines(sessions: readonly Execution[]): string {
  if (sessions.length === 0) return '  (none yet: start one with baton chat -p "…")';
  return sessions
    .slice(0, 10)
    .map((e) => {
      const minutes = Math.round((Date.now() - e.createdAt.getTime()) / 60_000);
      const age =
        minutes < 60
          ? `${minutes}m`
          : minutes < 2880
            ? `${Math.round(minutes / 60)}h`
            : `${Math.round(minutes / 1440)}d`;
      const prompt = ((e.input as Partial<ChatInput> | null)?.prompt ?? '').replace(/\s+/g, ' ');
      return `  ${e.id}  ${age.padStart(4)} ago  ${e.status.padEnd(9)}  ${prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt}`;
    })
    .join('\n');
}

/** Waits for turn `n`'s event, or for the session to end (an error). */
async function turnOf(client: Client, id: string, n: number): Promise<TurnEvent> {
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
async function idle(client: Client, id: string, onResumed: (t: TurnEvent) => void): Promise<number> {
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

export function chatCommand(globals: () => GlobalOptions, io: Io): Command {
  const chat = new Command('chat');
  chat
    .description("a conversation with Baton's coder on this project, kept as a durable workflow")
    .option('-p, --print <prompt>', 'headless: send this message, print the answer, exit')
    .option('-c, --continue', 'continue the latest session of this project')
    .option('-r, --resume [id]', 'resume a session by id (without one: list the recent sessions)')
    .option('--output-format <format>', `with -p: ${FORMATS.join(', ')}`, 'text')
    .option('--max-turns <n>', 'most model steps in one turn (default 30)')
    .option(
      '--context-budget <tokens>',
      'tokens of project context (the files that rank best for the message) sent with each message; 0: none',
      '1000',
    )
    .option(
      '--allow <rule...>',
      "also allow tool calls these rules match, in this run (the configuration's deny and ask rules still come first)",
    )
    .option(
      '--approval-timeout <duration>',
      'how long an ask waits for an answer (default at a terminal: 10m; with -p, ask is deny unless this is given)',
    )
    .option('--root <dir>', 'the project directory', '.')
    .option('--global', "keep sessions in ~/.baton instead of the project's .baton/")
    .action(async (o: ChatOptions) => {
      const root = directoryOption(o.root);
      if (!(FORMATS as readonly string[]).includes(o.outputFormat))
        throw new BatonError(
          'E_INVALID_OPTION',
          `--output-format ${o.outputFormat}: one of ${FORMATS.join(', ')}`,
        );
      const format = o.outputFormat as Format;
      const contextBudget = Number(o.contextBudget);
      if (!Number.isInteger(contextBudget) || contextBudget < 0)
        throw new BatonError(
          'E_INVALID_OPTION',
          `--context-budget must be a whole number of tokens (0: none), got '${o.contextBudget}'`,
        );
      const maxSteps = o.maxTurns === undefined ? undefined : Number(o.maxTurns);
      if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1))
        throw new BatonError(
          'E_INVALID_OPTION',
          `--max-turns must be a positive integer, got '${o.maxTurns}'`,
        );
      for (const rule of o.allow ?? []) parsePermissionRule(rule, 'allow');
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
      if (o.print === undefined && !interactive && o.resume !== true)
        throw new BatonError('E_INPUT_INVALID', 'no terminal to talk at: give the message with -p "…"');
      if (o.print !== undefined) checkMessage(o.print);
      const timeout = o.approvalTimeout ?? (interactive && o.print === undefined ? '10m' : undefined);
      const approvalTimeoutMs = timeout === undefined ? undefined : toMs(timeout, '--approval-timeout');

      const g = globals();
      const configDir = g.configDir ?? process.env.BATON_CONFIG_DIR ?? join(root, 'baton');
      const noProvider = () =>
        new BatonError(
          'E_CONFIG_INVALID',
          `no LLM provider is configured: add llm_providers.yaml to ${configDir} (docs/ai.md shows one), or point --config-dir at a configuration that has one`,
        );
      if (!existsSync(configDir)) throw noProvider();
      const config = await reportingConfigErrors(io, () => loadConfig(configDir, {}));
      if (config.get('llm_providers') === undefined) throw noProvider();
      await withChatStore(g, root, o.global === true, async (store) => {
        const runtime = await agentRuntime(store, config, root, o.allow ?? []);
        // AGENTS.md (CLAUDE.md, GEMINI.md) here and above are the project's instructions.
        const system = withProjectMemory(CODER.system, projectMemory(root));
        // Each message comes with a map of the files that rank best for it (docs/context.md).
        const index = new ContextStore(store.driver);
        const context =
          contextBudget === 0
            ? undefined
            : async (project: string, text: string) => {
                const scan = await index.scan(project);
                const ranked = rankFiles(scan.index, new GitHistory(readGitLog(project)), text, { top: 25 });
                return (await repoMap(scan.index, ranked, contextBudget)) || null;
              };
        const workflow = defineChatSession(
          { ...CODER, system, ...(maxSteps ? { maxSteps } : {}) },
          runtime,
          context ? { context } : {},
        );
        const worker = new Worker(store, {
          workflows: [workflow as WorkflowDefinition],
          queues: [workflow.queue],
          pollInterval: 200,
          // A session a killed chat left is taken over by the next one once this lease has run out.
          lease: '3s',
        });
        await worker.start();
        try {
          await converse(store, workflow, { o, root, format, interactive, approvalTimeoutMs }, io);
        } finally {
          await worker.stop({ deadline: '5s' });
        }
      });
    });
  // `baton chat --root X undo` and `baton chat undo --root X` both name the project.
  const parent = () => chat.opts<{ root: string; global?: boolean }>();
  chat.addCommand(undoCommand(globals, io, parent));
  chat.addCommand(gcCommand(globals, io, parent));
  return chat;
}

/**
 * Opens the store sessions live in: the project's .baton/ (or ~/.baton/ with --global) unless
 * --database or --data-dir says otherwise; migrated, closed afterwards.
 */
async function withChatStore<T>(
  g: GlobalOptions,
  root: string,
  global: boolean,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const dataDir =
    g.database || (g.dataDir !== undefined && g.dataDir !== DEFAULT_DATA_DIR)
      ? g.dataDir
      : join(global ? homedir() : root, '.baton', 'db');
  const store = await openStore({ ...g, dataDir }, makeLogger({ logLevel: 'error', ...g }));
  try {
    await store.migrate();
    await migrateAi(store.driver);
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The session `-s` names, else the project's latest. */
async function sessionFor(client: Client, root: string, id: string | undefined): Promise<string> {
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
function undoneLines(undone: Undone): string[] {
  const turns = undone.turns.length === 1 ? `turn ${undone.turns[0]}` : `turns ${undone.turns.join(', ')}`;
  return [`undid ${turns}:`, ...undone.files.map((f) => `  ${f.action} ${f.path}`)];
}

/** The options `undo` and `gc` may take from `baton chat` itself. */
type Parent = () => { root: string; global?: boolean };

function undoCommand(globals: () => GlobalOptions, io: Io, parent: Parent): Command {
  return new Command('undo')
    .description("put back the files a session's last turns changed (default: the last turn)")
    .argument('[turns]', 'how many turns back', '1')
    .option('-s, --session <id>', 'the session (default: the latest of the project)')
    .option('--root <dir>', 'the project directory (default: .)')
    .option('--global', 'sessions kept in ~/.baton')
    .action(async (turns: string, o: { session?: string; root?: string; global?: boolean }) => {
      const root = directoryOption(o.root ?? parent().root);
      const global = o.global === true || parent().global === true;
      const n = Number(turns);
      if (!Number.isInteger(n) || n < 1)
        throw new BatonError('E_INVALID_OPTION', `turns must be a positive integer, got '${turns}'`);
      await withChatStore(globals(), root, global, async (store) => {
        const id = await sessionFor(new Client(store), root, o.session);
        const undone = await new Checkpoints(store.driver).undo(id, root, n);
        for (const line of undoneLines(undone)) io.out(line);
      });
    });
}

function gcCommand(globals: () => GlobalOptions, io: Io, parent: Parent): Command {
  return new Command('gc')
    .description("drop a project's oldest checkpoints until they hold at most --max-bytes")
    .option('--max-bytes <n>', 'the bound', String(DEFAULT_CHECKPOINT_QUOTA_BYTES))
    .option('--root <dir>', 'the project directory (default: .)')
    .option('--global', 'sessions kept in ~/.baton')
    .action(async (o: { maxBytes: string; root?: string; global?: boolean }) => {
      const root = directoryOption(o.root ?? parent().root);
      const global = o.global === true || parent().global === true;
      const max = Number(o.maxBytes);
      if (!Number.isInteger(max) || max < 0)
        throw new BatonError(
          'E_INVALID_OPTION',
          `--max-bytes must be a whole number of bytes, got '${o.maxBytes}'`,
        );
      await withChatStore(globals(), root, global, async (store) => {
        const checkpoints = new Checkpoints(store.driver);
        const { dropped, freed } = await checkpoints.bound(root, max);
        const { checkpoints: left, bytes } = await checkpoints.usage(root);
        io.out(`dropped ${dropped} checkpoints (${freed} bytes); ${left} left, holding ${bytes} bytes`);
      });
    });
}

interface Conversation {
  o: ChatOptions;
  root: string;
  format: Format;
  interactive: boolean;
  approvalTimeoutMs: number | undefined;
}

async function converse(
  store: Store,
  workflow: WorkflowDefinition<ChatInput, never>,
  c: Conversation,
  io: Io,
): Promise<void> {
  const client = new Client(store);
  const emit = (event: Record<string, unknown>) =>
    c.format === 'stream-json' && io.out(JSON.stringify(event));
  let id: string | undefined;
  if (c.o.resume === true) {
    io.out(`recent sessions of ${c.root}:\n${sessionLines(await sessionsOf(client, c.root))}`);
    io.err('resume one with baton chat -r <id>');
    return;
  }
  if (typeof c.o.resume === 'string') {
    const wanted = c.o.resume;
    const found = await client.get(wanted).catch((err: unknown) => {
      if (isBatonError(err, 'E_NOT_FOUND')) return undefined;
      throw err;
    });
    if (!found || found.name !== SESSION)
      throw new BatonError(
        'E_NOT_FOUND',
        `no chat session '${wanted}' here; the recent ones:\n${sessionLines(await sessionsOf(client, c.root))}`,
      );
    id = found.id;
  } else if (c.o.continue) {
    const latest = (await sessionsOf(client, c.root)).find(
      (e) => e.status === 'waiting' || e.status === 'running' || e.status === 'queued',
    );
    if (!latest)
      throw new BatonError(
        'E_NOT_FOUND',
        `no session of ${c.root} to continue: start one with baton chat -p "…"`,
      );
    id = latest.id;
  }

  /** Sends `text` (a new session for the first) and prints its turn; the exit code it calls for. */
  const turn = async (text: string): Promise<number> => {
    const since = Date.now();
    let n: number;
    if (id === undefined) {
      id = (
        await client.start(workflow, {
          project: c.root,
          prompt: text,
          ...(c.approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs: c.approvalTimeoutMs }),
        })
      ).id;
      emit({ type: 'session', session: id, resumed: false });
      n = 1;
    } else {
      const session = id;
      emit({ type: 'session', session, resumed: true });
      n = await idle(client, session, (t) => {
        emit({ type: 'turn', interrupted: true, ...t });
        if (c.format === 'text')
          io.err(`(turn ${t.turn} was interrupted, and has now finished)\n${t.text}\n`);
      });
      const message: ChatMessage = {
        text,
        ...(c.approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs: c.approvalTimeoutMs }),
      };
      await client.signal(session, CHAT_MESSAGE, message);
    }
    const session = id;
    const pending = turnOf(client, session, n);
    if (c.interactive && c.approvalTimeoutMs !== undefined)
      await askAtTerminal(
        store,
        session,
        pending.catch(() => undefined),
        io,
      );
    const t = await pending;
    const refused = (await new AuditLog(store.driver).list({ executionId: session, since })).filter((a) =>
      REFUSED.has(a.decision),
    ).length;
    emit({ type: 'turn', interrupted: false, ...t });
    if (c.format === 'json') io.out(JSON.stringify(resultJson(session, t, refused), null, 2));
    else if (c.format === 'stream-json') emit({ type: 'result', ...resultJson(session, t, refused) });
    else {
      io.out(t.text);
      io.err(
        `turn ${t.turn}: ${t.turns} model steps, ${t.toolCalls} tool calls${refused ? ` (${refused} refused)` : ''}, ${t.inputTokens} in / ${t.outputTokens} out, $${t.costUsd.toFixed(4)}${t.stoppedBy === 'answer' ? '' : `; stopped by ${t.stoppedBy}`}  (session ${session})`,
      );
    }
    return refused > 0 || t.stoppedBy === 'budget' ? 2 : 0;
  };

  try {
    if (c.o.print !== undefined) {
      const code = await turn(c.o.print);
      if (code !== 0) throw new ExitCode(code);
      return;
    }
    // At a terminal: each line is a message, until /exit or end of input.
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      for (;;) {
        const line = (await rl.question('> ').catch(() => '/exit')).trim();
        if (line === '/exit') return;
        const undo = /^\/undo(?:\s+(\d+))?$/.exec(line);
        if (line === '/help') io.err('/undo [n]  put back the files of the last n turns\n/exit      leave');
        else if (undo) {
          if (id === undefined) io.err('nothing to undo yet');
          else {
            const undone = await new Checkpoints(store.driver)
              .undo(id, c.root, Number(undo[1] ?? 1))
              .catch((err: unknown) => {
                if (!isBatonError(err)) throw err;
                io.err(err.message);
                return undefined;
              });
            if (undone) for (const l of undoneLines(undone)) io.err(l);
          }
        } else if (line.startsWith('/')) io.err(`unknown command ${line}; /help lists them`);
        else if (line) await turn(line);
      }
    } finally {
      rl.close();
    }
  } catch (err) {
    if (isBatonError(err, 'E_BUDGET_EXCEEDED')) {
      io.err(`error [E_BUDGET_EXCEEDED]: ${err.message}`);
      throw new ExitCode(2);
    }
    throw err;
  }
}
