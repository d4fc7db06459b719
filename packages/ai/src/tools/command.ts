// run_command: a program run under the sandbox's execution policy (working directory inside the
// roots, scrubbed environment, timeout with its process group killed, output caps, and no network
// when the policy denies it). An argv, never a shell string, unless the sandbox allows a shell.
import { BatonError, runUnderPolicy } from '@baton/core';
import { z } from 'zod';
import { defineTool } from './tool.js';

const input = z
  .strictObject({
    argv: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('The program and its arguments, e.g. ["npm", "test"]'),
    command: z
      .string()
      .min(1)
      .optional()
      .describe('A shell command line (only where the policy allows a shell)'),
    cwd: z.string().min(1).optional().describe('Working directory relative to the project root'),
  })
  .refine((i) => (i.argv === undefined) !== (i.command === undefined), {
    message: 'give argv or command, not both',
  });

export const runCommand = defineTool({
  name: 'run_command',
  description:
    'Run a program in the project and get its exit code and output. Give argv (["npm", "test"]); a shell command line only where the policy allows a shell.',
  input,
  idempotent: false,
  subject: (i) => ({ argv: i.argv ?? ['sh', '-c', i.command!] }),
  // Rules match the argv only; the same argv in another directory (with a package.json the agent
  // wrote there) is another command.
  askAnyway: (i, sandbox) => {
    const cwd = i.cwd === undefined ? '.' : sandbox.resolve(i.cwd).rel;
    return cwd === '.' ? null : `it runs in ${cwd}, not the project root`;
  },
  async run(i, { sandbox, signal }) {
    if (i.command !== undefined && !sandbox.shell)
      throw new BatonError(
        'E_POLICY_DENIED',
        'the policy allows no shell: give argv (["program", "arg", …]) instead of command',
      );
    const argv = i.argv ?? ['sh', '-c', i.command!];
    const cwd = sandbox.resolve(i.cwd ?? '.').real;
    const run = await runUnderPolicy(sandbox.policy, argv, { cwd, signal });
    if (signal.aborted)
      throw new BatonError('E_CANCELLED', `${argv[0]} was stopped: the agent's run was cancelled`);
    const status = run.timedOut
      ? `timed out after ${sandbox.policy.timeoutMs / 1000} s`
      : run.code === null
        ? `killed by ${run.signal}`
        : `exit code ${run.code}`;
    const parts = [status];
    if (run.stdout) parts.push(`stdout:\n${run.stdout}`);
    if (run.stderr) parts.push(`stderr:\n${run.stderr}`);
    if (run.truncated) parts.push(`[output cut at ${sandbox.policy.maxOutputBytes} bytes per stream]`);
    return parts.join('\n');
  },
});
