// `baton chat`: a conversation with Baton's coder on a project, kept as a durable workflow in the
// store (the project's .baton/ by default, ~/.baton with --global). This process serves the session
// while it talks to it; between turns the session waits in the store, holding no memory, so a kill
// loses nothing and `-c` or `-r <id>` goes on where it stopped (an interrupted turn is finished
// first, and shown as such). At a terminal it is a full-screen conversation (chat-ui/); `-p` is
// headless (chat-headless.ts).
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  BatonError,
  Client,
  Worker,
  parsePermissionRule,
  toMs,
  isBatonError,
  type Store,
  type WorkflowDefinition,
} from '@baton/core';
import {
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
  CODER,
  checkMessage,
  defineChatSession,
} from '@baton/ai';
import { loadConfig, type Config } from '@baton/flows';
import { DEFAULT_DATA_DIR, makeLogger, openStore, type GlobalOptions, type Io } from '../context.js';
import { agentRuntime, aiConfigOf, permissionRules } from './ai-context.js';
import { reportingConfigErrors } from './config.js';
import { directoryOption } from './options.js';
import { ExitCode } from './ta.js';
import { chatScreenModule } from '../chat-ui/load.js';
import { LiveTurns, SessionController, routeInfo } from './chat-controller.js';
import { FORMATS, headlessTurn, type Format } from './chat-headless.js';
import { pickItems, sessionFor, sessionLines, sessionsOf, undoneLines } from './chat-sessions.js';

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
  compactAt?: string;
}

/** The options, checked (E_INVALID_OPTION naming the one that is wrong). */
function checked(o: ChatOptions) {
  if (!(FORMATS as readonly string[]).includes(o.outputFormat))
    throw new BatonError(
      'E_INVALID_OPTION',
      `--output-format ${o.outputFormat}: one of ${FORMATS.join(', ')}`,
    );
  const contextBudget = Number(o.contextBudget);
  if (!Number.isInteger(contextBudget) || contextBudget < 0)
    throw new BatonError(
      'E_INVALID_OPTION',
      `--context-budget must be a whole number of tokens (0: none), got '${o.contextBudget}'`,
    );
  const maxSteps = o.maxTurns === undefined ? undefined : Number(o.maxTurns);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1))
    throw new BatonError('E_INVALID_OPTION', `--max-turns must be a positive integer, got '${o.maxTurns}'`);
  for (const rule of o.allow ?? []) parsePermissionRule(rule, 'allow');
  if (o.print !== undefined) checkMessage(o.print);
  const compactAt = o.compactAt === undefined ? undefined : Number(o.compactAt);
  if (compactAt !== undefined && (!Number.isInteger(compactAt) || compactAt < 1000))
    throw new BatonError(
      'E_INVALID_OPTION',
      `--compact-at must be a whole number of tokens, 1000 or more, got '${o.compactAt}'`,
    );
  return { format: o.outputFormat as Format, contextBudget, maxSteps, compactAt };
}

/** The configuration, refused without an LLM provider (saying how to add one). */
async function chatConfig(io: Io, configDir: string): Promise<Config> {
  const noProvider = () =>
    new BatonError(
      'E_CONFIG_INVALID',
      `no LLM provider is configured: add llm_providers.yaml to ${configDir} (docs/ai.md shows one), or point --config-dir at a configuration that has one`,
    );
  if (!existsSync(configDir)) throw noProvider();
  const config = await reportingConfigErrors(io, () => loadConfig(configDir, {}));
  if (config.get('llm_providers') === undefined) throw noProvider();
  return config;
}

/** The session `-c` or `-r <id>` names, if any (E_NOT_FOUND, with the recent ones, if none). */
async function sessionToResume(client: Client, root: string, o: ChatOptions): Promise<string | undefined> {
  if (typeof o.resume === 'string') return sessionFor(client, root, o.resume);
  if (!o.continue) return undefined;
  const latest = (await sessionsOf(client, root)).find(
    (e) => e.status === 'waiting' || e.status === 'running' || e.status === 'queued',
  );
  if (!latest)
    throw new BatonError(
      'E_NOT_FOUND',
      `no session of ${root} to continue: start one with baton chat (or baton chat -p "…")`,
    );
  return latest.id;
}

export function chatCommand(globals: () => GlobalOptions, io: Io): Command {
  const chat = new Command('chat');
  chat
    .description("a conversation with Baton's coder on this project, kept as a durable workflow")
    .option('-p, --print <prompt>', 'headless: send this message, print the answer, exit')
    .option('-c, --continue', 'continue the latest session of this project')
    .option('-r, --resume [id]', 'resume a session by id (without one: pick one of the recent sessions)')
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
    .option(
      '--compact-at <tokens>',
      "compact the conversation once a model call is sent this many tokens (default: 80% of the model's context window, else 100000)",
    )
    .action(async (o: ChatOptions) => {
      const root = directoryOption(o.root);
      const { format, contextBudget, maxSteps, compactAt } = checked(o);
      // The screen needs a terminal to read keys from and draw on; -p asks (with a timeout) on stderr.
      const atTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
      const canAsk = process.stdin.isTTY === true && process.stderr.isTTY === true;
      if (o.print === undefined && !atTerminal && o.resume !== true)
        throw new BatonError('E_INPUT_INVALID', 'no terminal to talk at: give the message with -p "…"');
      const screen = atTerminal && o.print === undefined;
      const timeout = o.approvalTimeout ?? (screen ? '10m' : undefined);
      const approvalTimeoutMs = timeout === undefined ? undefined : toMs(timeout, '--approval-timeout');
      const g = globals();
      const config = await chatConfig(io, g.configDir ?? process.env.BATON_CONFIG_DIR ?? join(root, 'baton'));

      /** Opens the store, serves sessions from it, and runs `fn` with a controller. */
      const serving = async (fn: (controller: SessionController, store: Store) => Promise<void>) =>
        withChatStore(g, root, o.global === true, async (store) => {
          const runtime = await agentRuntime(store, config, root, o.allow ?? []);
          const live = new LiveTurns();
          const index = new ContextStore(store.driver);
          // AGENTS.md (CLAUDE.md, GEMINI.md) here and above are the project's instructions.
          const system = withProjectMemory(CODER.system, projectMemory(root));
          const workflow = defineChatSession(
            { ...CODER, system, ...(maxSteps ? { maxSteps } : {}) },
            runtime,
            {
              live,
              ...(contextBudget === 0 ? {} : { context: projectContext(index, contextBudget) }),
            },
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
            const client = new Client(store);
            let session = await sessionToResume(client, root, o);
            if (o.resume === true) {
              const items = await pickItems(client, runtime.ai.usage, root);
              if (!screen || items.length === 0) {
                io.out(`recent sessions of ${root}:\n${sessionLines(await sessionsOf(client, root))}`);
                io.err('resume one with baton chat -r <id>');
                return;
              }
              const { pickSession } = await chatScreenModule();
              session = (await pickSession(items)) ?? undefined;
              if (session === undefined) return;
            }
            const controller = new SessionController({
              store,
              workflow,
              runtime,
              live,
              root,
              approvalTimeoutMs,
              rules: permissionRules(config, root, o.allow ?? []),
              index,
              session,
              compactAt,
            });
            await fn(controller, store);
          } finally {
            await worker.stop({ deadline: '5s' });
          }
        });

      if (screen && o.resume !== true) {
        // The screen is up before the store opens; the session is ready a moment later.
        const { runChatScreen } = await chatScreenModule();
        let ready!: (c: SessionController) => void;
        let leave!: () => void;
        const left = new Promise<void>((resolve) => (leave = resolve));
        const opened = serving(async (controller) => {
          ready(controller);
          await left;
        });
        const controllerReady = new Promise<SessionController>((resolve, reject) => {
          ready = resolve;
          opened.catch(reject);
        });
        try {
          await runChatScreen(routeInfo(aiConfigOf(config)), controllerReady);
        } finally {
          leave();
          await opened.catch(() => undefined);
        }
        await opened;
        return;
      }
      if (screen) {
        // -r with no id at a terminal: the picker, then the screen.
        const { runChatScreen } = await chatScreenModule();
        await serving((controller) =>
          runChatScreen(routeInfo(aiConfigOf(config)), Promise.resolve(controller)),
        );
        return;
      }
      await serving(async (controller, store) => {
        try {
          const code = await headlessTurn(
            controller,
            o.print!,
            { store, format, askHere: canAsk && approvalTimeoutMs !== undefined },
            io,
          );
          if (code !== 0) throw new ExitCode(code);
        } catch (err) {
          if (isBatonError(err, 'E_BUDGET_EXCEEDED')) {
            io.err(`error [E_BUDGET_EXCEEDED]: ${err.message}`);
            throw new ExitCode(2);
          }
          throw err;
        }
      });
    });
  // `baton chat --root X undo` and `baton chat undo --root X` both name the project.
  const parent = () => chat.opts<{ root: string; global?: boolean }>();
  chat.addCommand(undoCommand(globals, io, parent));
  chat.addCommand(gcCommand(globals, io, parent));
  return chat;
}

/** Each message comes with a map of the files that rank best for it (docs/context.md). */
function projectContext(index: ContextStore, budget: number) {
  return async (project: string, text: string) => {
    const scan = await index.scan(project);
    const ranked = rankFiles(scan.index, new GitHistory(readGitLog(project)), text, { top: 25 });
    return (await repoMap(scan.index, ranked, budget)) || null;
  };
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
