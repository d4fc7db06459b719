// The `command` adapter: runs a command once per task, the prompt on stdin and the task as JSON in
// BATON_TASK. Exit 0 completes the task with its stdout; anything else fails it with its stderr.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TaskView } from '../store/view.js';
import type { ExecutorOutcome, TaskExecutor } from './runner.js';

/** Output kept per task: stdout in full up to this, stderr's end. */
const MAX_STDOUT = 1 << 20;
const STDERR_TAIL = 4000;

export function commandExecutor(argv: readonly string[], options: { cwd?: string } = {}): TaskExecutor {
  if (argv.length === 0) throw new Error('commandExecutor needs a command');
  return {
    run: (task) => runCommand(argv, task, options.cwd),
  };
}

function runCommand(
  argv: readonly string[],
  task: TaskView,
  cwd: string | undefined,
): Promise<ExecutorOutcome> {
  return new Promise((resolve) => {
    const dir =
      task.metadata.working_dir && existsSync(task.metadata.working_dir) ? task.metadata.working_dir : cwd;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...task.metadata.env,
        BATON_TASK: JSON.stringify(task),
        BATON_TASK_ID: task.id,
        BATON_TASK_TYPE: task.type,
        ...(task.port !== null && { BATON_PORT: String(task.port) }),
      },
    });
    let stdout = '';
    let stderr = '';
    let truncated = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length + d.length > MAX_STDOUT) truncated = true;
      else stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_TAIL);
    });
    child.on('error', (err) => resolve({ ok: false, error: `${argv[0]} could not run: ${err.message}` }));
    child.on('close', (code, sig) => {
      if (code === 0)
        resolve({ ok: true, output: truncated ? `${stdout}\n[output truncated at 1 MiB]` : stdout });
      else {
        const how = sig ? `killed by ${sig}` : `exited ${code}`;
        resolve({ ok: false, error: stderr.trim() ? `${how}: ${stderr.trim()}` : how });
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(task.prompt);
  });
}
