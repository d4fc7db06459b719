// The `command` adapter: runs a command once per task, the prompt on stdin and the task as JSON in
// BATON_TASK, under an execution policy (docs/security.md): the task's working directory must be
// inside the policy's roots, the command gets only the allowed environment, and it is stopped at the
// policy's timeout. Exit 0 completes the task with its stdout; anything else fails it with its stderr.
import { existsSync } from 'node:fs';
import { executionPolicy, isBatonError, runUnderPolicy, type ExecutionPolicy } from '@baton/core';
import type { TaskView } from '../store/view.js';
import type { ExecutorOutcome, TaskExecutor } from './runner.js';

/** The end of stderr kept in a failure's message. */
const STDERR_TAIL = 4000;

export interface CommandExecutorOptions {
  /** Where a task without a working_dir runs (default: this process's working directory). */
  cwd?: string;
  /**
   * What the command may touch. Default: the working directory as the only root, the default
   * environment allowlist, 1 MiB of output, a 6-hour limit.
   */
  policy?: ExecutionPolicy;
}

export function commandExecutor(argv: readonly string[], options: CommandExecutorOptions = {}): TaskExecutor {
  if (argv.length === 0) throw new Error('commandExecutor needs a command');
  const cwd = options.cwd ?? process.cwd();
  const policy = options.policy ?? executionPolicy({ roots: [cwd], timeoutMs: 6 * 3600_000 });
  return {
    run: (task) => runCommand(argv, task, cwd, policy),
  };
}

async function runCommand(
  argv: readonly string[],
  task: TaskView,
  cwd: string,
  policy: ExecutionPolicy,
): Promise<ExecutorOutcome> {
  const dir =
    task.metadata.working_dir && existsSync(task.metadata.working_dir) ? task.metadata.working_dir : cwd;
  try {
    const run = await runUnderPolicy(policy, argv, {
      cwd: dir,
      input: task.prompt,
      env: {
        ...task.metadata.env,
        BATON_TASK: JSON.stringify(task),
        BATON_TASK_ID: task.id,
        BATON_TASK_TYPE: task.type,
        ...(task.port !== null && { BATON_PORT: String(task.port) }),
      },
    });
    if (run.code === 0 && !run.timedOut) {
      return {
        ok: true,
        output: run.truncated
          ? `${run.stdout}\n[output truncated at ${policy.maxOutputBytes} bytes]`
          : run.stdout,
      };
    }
    const how = run.timedOut
      ? `stopped after the policy's ${policy.timeoutMs} ms`
      : run.signal
        ? `killed by ${run.signal}`
        : run.code === null
          ? 'could not run'
          : `exited ${run.code}`;
    const stderr = run.stderr.slice(-STDERR_TAIL).trim();
    return { ok: false, error: stderr ? `${how}: ${stderr}` : how };
  } catch (err) {
    // Refused by the policy (a working directory outside its roots, a forbidden variable): the
    // task fails with the reason, and nothing ran.
    if (isBatonError(err)) return { ok: false, error: `${err.code}: ${err.message}` };
    throw err;
  }
}
