// `baton sessions list|show|drain|remove` and `baton session run`: the agent sessions tasks go to.
import { Command } from 'commander';
import { BatonError } from '@baton/core';
import {
  commandExecutor,
  resolveAgentProfile,
  runSession,
  tmuxExecutor,
  type AgentsConfig,
  type SessionView,
  type TaskExecutor,
} from '@baton/flows';
import { makeLogger, type GlobalOptions, type Io } from '../context.js';
import { table } from '../format.js';
import { withArchitect } from './architect-context.js';
import { untilSignal } from './worker.js';

export function sessionsCommand(globals: () => GlobalOptions, io: Io): Command {
  const sessions = new Command('sessions').description('the agent sessions tasks are routed to');
  sessions
    .command('list')
    .description('every session: status, load, last heartbeat')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withArchitect(globals(), io, async ({ architect }) => {
        const list = await architect.sessions.list();
        if (o.json) return io.out(JSON.stringify(list, null, 2));
        io.out(
          table(
            ['NAME', 'PROVIDER', 'STATUS', 'TASKS', 'ADAPTER', 'LAST HEARTBEAT', 'NOTE'],
            list.map((s) => [
              s.name,
              s.provider,
              s.status,
              `${s.current_tasks.length}/${s.capacity}`,
              s.adapter,
              s.last_heartbeat.slice(0, 19).replace('T', ' '),
              (s.note ?? '').split('\n').at(-1) ?? '',
            ]),
          ),
        );
      });
    });
  sessions
    .command('show')
    .description('one session and the tasks it holds')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      await withArchitect(globals(), io, async ({ architect }) => {
        const s = await architect.sessions.show(name);
        io.out(o.json ? JSON.stringify(s, null, 2) : sessionText(s));
      });
    });
  sessions
    .command('drain')
    .description('give the session no new tasks; it finishes those it holds')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      await withArchitect(globals(), io, async ({ architect }) => {
        const s = await architect.sessions.drain(name);
        io.out(
          o.json
            ? JSON.stringify(s, null, 2)
            : `${s.name}: draining (${s.current_tasks.length} task${s.current_tasks.length === 1 ? '' : 's'} to finish)`,
        );
      });
    });
  sessions
    .command('remove')
    .description('remove a session (one holding tasks only with --force, which sends them back to the queue)')
    .argument('<name>')
    .option('--force', 'send its tasks back to the queue')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { force?: boolean; json?: boolean }) => {
      await withArchitect(globals(), io, async ({ architect }) => {
        await architect.sessions.remove(name, { force: o.force });
        io.out(o.json ? JSON.stringify({ removed: name }) : `removed ${name}`);
      });
    });
  return sessions;
}

interface RunFlags {
  provider: string;
  capacity: string;
  tmux?: boolean;
  workdir?: string;
  gitBranch?: string;
}

/** `baton session run <name> --provider P [--capacity N] [--tmux] -- <cmd…>`. */
export function sessionCommand(globals: () => GlobalOptions, io: Io): Command {
  const session = new Command('session').description('run an agent session');
  session
    .command('run')
    .description(
      'register a session and do its tasks: run <cmd> per task (prompt on stdin, task JSON in $BATON_TASK), or with --tmux drive the agent CLI <cmd> in tmux',
    )
    .argument('<name>', 'the session’s name (routing_rules.yaml names sessions in preferred_sessions)')
    .argument('[cmd...]', 'the command (after --)')
    .requiredOption('--provider <provider>', 'its provider (claude, codex, …; one of supported_providers)')
    .option('--capacity <n>', 'tasks it does at once', '1')
    .option(
      '--tmux',
      'drive an interactive agent CLI in tmux (cmd defaults to the provider’s start command from agents.yaml)',
    )
    .option('--workdir <dir>', 'the directory it works in (tasks for it rank it higher)', process.cwd())
    .option('--git-branch <branch>', 'the git branch it is on')
    .action(async (name: string, cmd: string[], o: RunFlags) => {
      const capacity = Number(o.capacity);
      if (!Number.isInteger(capacity) || capacity < 1)
        throw new BatonError(
          'E_INVALID_OPTION',
          `--capacity must be a positive integer, got '${o.capacity}'`,
        );
      if (o.tmux && capacity !== 1)
        throw new BatonError('E_INVALID_OPTION', 'a --tmux session drives one agent pane: its capacity is 1');
      if (!o.tmux && cmd.length === 0)
        throw new BatonError(
          'E_INVALID_OPTION',
          'give the command to run per task after --, e.g. `baton session run w1 --provider claude -- ./do-task.sh`',
        );
      const stopped = untilSignal();
      const stop = new AbortController();
      void stopped.then(() => stop.abort());
      const log = makeLogger(globals());
      await withArchitect(
        globals(),
        io,
        async ({ architect, config }) => {
          let executor: TaskExecutor;
          if (o.tmux) {
            const profile = resolveAgentProfile(o.provider, config.get('agents') as AgentsConfig | undefined);
            executor = await tmuxExecutor({
              session: `baton-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`,
              profile,
              command: cmd.length ? cmd : undefined,
              cwd: o.workdir,
            });
          } else executor = commandExecutor(cmd, { cwd: o.workdir });
          io.out(
            `session ${name} (${o.provider}, capacity ${capacity}) registered; taking tasks until SIGINT/SIGTERM`,
          );
          await runSession(architect, {
            session: {
              name,
              provider: o.provider,
              capacity,
              adapter: o.tmux ? 'tmux' : 'command',
              working_dir: o.workdir,
              git_branch: o.gitBranch,
            },
            executor,
            signal: stop.signal,
            log,
            onTask: (event, task, detail) =>
              io.out(`${event} ${task.id} (${task.type})${detail ? `: ${detail.split('\n')[0]}` : ''}`),
          });
          io.out(`session ${name} stopped`);
        },
        { serve: true },
      );
    });
  return session;
}

function sessionText(s: SessionView): string {
  return [
    `name:            ${s.name}`,
    `provider:        ${s.provider}`,
    `status:          ${s.status}`,
    `tasks:           ${s.current_tasks.length}/${s.capacity}${s.current_tasks.length ? ` (${s.current_tasks.join(', ')})` : ''}`,
    `adapter:         ${s.adapter}`,
    `working dir:     ${s.working_dir ?? ''}`,
    `git branch:      ${s.git_branch ?? ''}`,
    `registered:      ${s.registered_at}`,
    `last heartbeat:  ${s.last_heartbeat}`,
    `assigned total:  ${s.assigned_total}`,
    ...(s.note ? [`note:\n${s.note}`] : []),
  ].join('\n');
}
