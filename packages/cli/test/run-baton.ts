// Runs the built `baton` binary as a user would, and returns its exit code and output.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

export interface BatonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `baton …args` in a child process. `env` is laid over this process's environment (BATON_DATABASE_URL
 * cleared); a variable given as undefined is removed.
 */
export async function baton(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<BatonResult> {
  const env: Record<string, string | undefined> = { ...process.env, BATON_DATABASE_URL: '', ...options.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env,
      cwd: options.cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
