// `baton tasks …`: GAIA_GO's assigner verbs on the Architect (send, list, show, explain, retry,
// reassign, cancel, clear, pause, resume). Every command takes --json.
import { Command } from 'commander';
import { BatonError, toMs } from '@baton/core';
import { TASK_STATUSES, type TaskSpec, type TaskStatus, type TaskView } from '@baton/flows';
import type { GlobalOptions, Io } from '../context.js';
import { table } from '../format.js';
import { withArchitect } from './architect-context.js';
import { collect } from './options.js';

interface SendFlags {
  type: string;
  priority?: string;
  target?: string;
  provider?: string;
  providers?: string;
  fallback?: string;
  allowFallback?: boolean;
  timeout?: string;
  retries?: string;
  workdir?: string;
  env: string[];
  gitBranch?: string;
  project?: string;
  json?: boolean;
}

export function tasksCommand(globals: () => GlobalOptions, io: Io): Command {
  const tasks = new Command('tasks').description(
    "the Architect's tasks: send, inspect, retry, reassign, cancel",
  );
  const run = (fn: (a: Parameters<Parameters<typeof withArchitect>[2]>[0]['architect']) => Promise<void>) =>
    withArchitect(globals(), io, ({ architect }) => fn(architect));
  const print = (json: boolean | undefined, view: TaskView, text: string) =>
    io.out(json ? JSON.stringify(view, null, 2) : text);

  tasks
    .command('send')
    .description('send a task: it is routed to a session by routing_rules.yaml')
    .argument('<prompt>', 'what the agent should do')
    .option(
      '-t, --type <type>',
      'task type (a key of environment_routing; others take the default rule)',
      'general',
    )
    .option('-p, --priority <n>', 'priority 0 (lowest) to 10 (highest); default: the type’s rule')
    .option('--target <session>', 'only this session may take it')
    .option('--provider <provider>', 'only sessions of this provider (unless --allow-fallback)')
    .option('--providers <a,b>', 'preferred providers, in order')
    .option('--fallback <a,b>', 'providers acceptable with --allow-fallback, in order')
    .option('--allow-fallback', 'let other providers take it when the named ones cannot')
    .option('--timeout <duration>', 'how long an assignment may run (30m, 2h); default: the type’s rule')
    .option('--retries <n>', 'retries after a failed attempt; default: the type’s rule')
    .option('--workdir <dir>', 'working directory (sessions already there rank higher)')
    .option('--env <K=V>', 'an environment variable for the task (repeat)', collect, [])
    .option('--git-branch <branch>', 'git branch (sessions already on it rank higher)')
    .option('--project <name>', 'project the task belongs to')
    .option('--json', 'print JSON')
    .action(async (prompt: string, o: SendFlags) => {
      const spec = sendSpec(prompt, o);
      await run(async (a) => {
        const task = await a.tasks.send(spec);
        print(o.json, task, sentText(task));
      });
    });

  tasks
    .command('list')
    .description('tasks, newest first')
    .option('-s, --status <list>', `only these statuses, comma-separated (${TASK_STATUSES.join(', ')})`)
    .option('-t, --type <type>', 'only this type')
    .option('--session <name>', 'only tasks held by this session')
    .option('-n, --limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(
      async (o: { status?: string; type?: string; session?: string; limit: string; json?: boolean }) => {
        const status = o.status
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) as TaskStatus[] | undefined;
        const limit = positive(o.limit, '--limit');
        await run(async (a) => {
          const list = await a.tasks.list({ status, type: o.type, session: o.session, limit });
          if (o.json) return io.out(JSON.stringify(list, null, 2));
          io.out(
            table(
              ['ID', 'TYPE', 'STATUS', 'PRI', 'SESSION', 'CREATED', 'PROMPT'],
              list.map((t) => [
                t.id,
                t.type,
                t.status + (t.paused ? ' (paused)' : ''),
                String(t.priority),
                t.assigned_session ?? '',
                t.created_at.slice(0, 19).replace('T', ' '),
                clip(t.prompt, 50),
              ]),
            ),
          );
        });
      },
    );

  tasks
    .command('show')
    .description('a task with its assignment history (every event with its reason)')
    .argument('<id>')
    .option('--json', 'print JSON (status, assigned_session, retry_count, reassignments, history …)')
    .action(async (id: string, o: { json?: boolean }) => {
      await run(async (a) => {
        const task = await a.tasks.show(id);
        print(o.json, task, detailText(task));
      });
    });

  tasks
    .command('explain')
    .description(
      'why the task is where it is: the rule that matched and, for each session, why it was or was not chosen',
    )
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await run(async (a) => {
        const e = await a.tasks.explain(id);
        io.out(o.json ? JSON.stringify({ task: e.task, decision: e.decision }, null, 2) : e.text);
      });
    });

  tasks
    .command('retry')
    .description(
      'send a failed or cancelled task again (--all-failed: every failed task below its max_retries)',
    )
    .argument('[id]')
    .option('--all-failed', 'every failed task whose retry_count < max_retries')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, o: { allFailed?: boolean; json?: boolean }) => {
      if (!id === !o.allFailed)
        throw new BatonError('E_INVALID_OPTION', 'give a task id or --all-failed (not both)');
      await run(async (a) => {
        if (id) {
          const task = await a.tasks.retry(id);
          return print(
            o.json,
            task,
            `${task.id}: ${task.status} (retry ${task.retry_count} of ${task.max_retries})`,
          );
        }
        const list = await a.tasks.retryAllFailed();
        io.out(
          o.json
            ? JSON.stringify(list, null, 2)
            : `retried ${list.length} failed task${list.length === 1 ? '' : 's'}${list.length ? `: ${list.map((t) => t.id).join(', ')}` : ''}`,
        );
      });
    });

  tasks
    .command('reassign')
    .description('take a task from its session and route it again (to --to, else to another session)')
    .argument('<id>')
    .option('--to <session>', 'the session that should take it')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { to?: string; json?: boolean }) => {
      await run(async (a) => {
        const task = await a.tasks.reassign(id, { to: o.to });
        print(
          o.json,
          task,
          `${task.id}: ${task.status}${task.assigned_session ? ` → ${task.assigned_session}` : ''} (reassignment ${task.reassignments})`,
        );
      });
    });

  for (const [verb, what] of [
    ['cancel', 'cancel a pending or assigned task'],
    ['pause', "stop a task's SLA clock (paused time is not counted)"],
    ['resume', "restart a paused task's SLA clock"],
  ] as const) {
    tasks
      .command(verb)
      .description(what)
      .argument('<id>')
      .option('--json', 'print JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        await run(async (a) => {
          const task = await a.tasks[verb](id);
          print(o.json, task, `${task.id}: ${task.status}${task.paused ? ' (SLA clock paused)' : ''}`);
        });
      });
  }

  tasks
    .command('clear')
    .description('delete ended tasks: completed and cancelled ones (failed ones only with --include-failed)')
    .option('--older-than <duration>', 'only tasks that ended at least this long ago (7d, 12h)', '0s')
    .option('--include-failed', 'delete failed tasks too')
    .option('--json', 'print JSON')
    .action(async (o: { olderThan: string; includeFailed?: boolean; json?: boolean }) => {
      const olderThanMs = toMs(o.olderThan, '--older-than');
      await run(async (a) => {
        const n = await a.tasks.clear({ olderThanMs, includeFailed: o.includeFailed });
        io.out(o.json ? JSON.stringify({ deleted: n }) : `deleted ${n} task${n === 1 ? '' : 's'}`);
      });
    });
  return tasks;
}

function positive(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new BatonError('E_INVALID_OPTION', `${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

function numberOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new BatonError('E_INVALID_OPTION', `${flag} must be a number, got '${value}'`);
  return n;
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The task a `tasks send` command line describes (the router checks the values). */
export function sendSpec(prompt: string, o: SendFlags): TaskSpec {
  const env: Record<string, string> = {};
  for (const pair of o.env) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new BatonError('E_INVALID_OPTION', `--env takes NAME=value, got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let timeout_minutes: number | undefined;
  if (o.timeout !== undefined) {
    const ms = /^0+(\.0*)?[a-z]*$/.test(o.timeout.trim()) ? 0 : toMs(o.timeout, '--timeout');
    if (ms <= 0)
      throw new BatonError(
        'E_INVALID_OPTION',
        `--timeout must be longer than 0 (30m, 2h), got '${o.timeout}'`,
      );
    timeout_minutes = ms / 60_000;
  }
  const spec: Record<string, unknown> = {
    type: o.type,
    prompt,
    priority: numberOption(o.priority, '--priority'),
    target_session: o.target,
    target_provider: o.provider,
    preferred_providers: list(o.providers),
    fallback_providers: list(o.fallback),
    allow_fallback: o.allowFallback,
    timeout_minutes,
    max_retries: numberOption(o.retries, '--retries'),
    working_dir: o.workdir,
    env: o.env.length ? env : undefined,
    git_branch: o.gitBranch,
    project: o.project,
  };
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return spec as unknown as TaskSpec;
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** What `baton tasks send` prints for the task it sent. */
export function sentText(t: TaskView): string {
  const assigned = `${t.id}: assigned to ${t.assigned_session}${t.port !== null ? ` (port ${t.port})` : ''}`;
  if (t.status === 'assigned') return assigned;
  // A waiting session can take the task (or even finish it) before this command reads it back.
  if (t.assigned_session !== null && (t.status === 'running' || t.status === 'completed'))
    return `${assigned}\n(${t.assigned_session} has already taken it: ${t.status})`;
  return `${t.id}: ${t.status}${t.waiting_because ? ` — ${t.waiting_because}` : ''}\n(\`baton tasks explain ${t.id}\` says why; \`baton architect\` serves the queue)`;
}

function detailText(t: TaskView): string {
  const rows: [string, string | number | null][] = [
    ['id', t.id],
    ['type', t.type],
    ['status', t.status + (t.paused ? ' (SLA clock paused)' : '')],
    ['priority', t.priority],
    ['session', t.assigned_session],
    ['attempt', t.attempt],
    ['retries', `${t.retry_count} of ${t.max_retries}`],
    ['reassignments', t.reassignments],
    ['timeout', t.timeout_minutes === null ? 'none' : `${t.timeout_minutes} min`],
    ['port', t.port],
    ['waiting because', t.waiting_because],
    ['created', t.created_at],
    ['started', t.started_at],
    ['ended', t.ended_at],
    ['deadline', t.deadline_at],
    ['working dir', t.metadata.working_dir],
    ['git branch', t.metadata.git_branch],
    ['error', t.error],
  ];
  const lines = rows.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${`${k}:`.padEnd(17)}${v}`);
  lines.push(`prompt:          ${clip(t.prompt, 200)}`);
  if (t.result) lines.push(`result:          ${clip(t.result, 500)}`);
  lines.push('history:');
  for (const h of t.history ?? [])
    lines.push(
      `  ${h.at.slice(0, 23).replace('T', ' ')}  ${h.event.padEnd(14)} ${(h.session ?? '').padEnd(14)} ${h.reason}`,
    );
  return lines.join('\n');
}
