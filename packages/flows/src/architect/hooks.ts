// Environment hooks (routing_rules.yaml environment_settings.hooks): shell commands that create a
// task's environment or its pull request. Baton runs them with the task as JSON on stdin and records
// their outcome; what they do is theirs. A hook may run again after a crash, so it should be
// idempotent (create the environment only if it is missing).
import { spawn } from 'node:child_process';

export interface HookOutcome {
  readonly ok: boolean;
  /** `create_env exited 0 in 1.2 s`, or what went wrong, with the end of its stderr. */
  readonly summary: string;
}

const TAIL = 500;

export function runHook(
  label: string,
  command: string,
  input: unknown,
  options: { timeoutMs: number; cwd?: string },
): Promise<HookOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      cwd: options.cwd,
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, BATON_HOOK: label },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-TAIL);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    const secs = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, summary: `${label} could not start: ${err.message}` });
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const tail = stderr.trim() ? `: ${stderr.trim()}` : '';
      if (code === 0) resolve({ ok: true, summary: `${label} exited 0 in ${secs()}` });
      else if (sig)
        resolve({
          ok: false,
          summary: `${label} was killed (${sig}) after ${secs()}${sig === 'SIGKILL' ? ` (timeout ${options.timeoutMs / 1000} s)` : ''}${tail}`,
        });
      else resolve({ ok: false, summary: `${label} exited ${code} after ${secs()}${tail}` });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(`${JSON.stringify(input)}\n`);
  });
}
