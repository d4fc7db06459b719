import { Command } from 'commander';
import { runTaCli } from '@baton/ta/cli';
import { BatonError } from '@baton/core';

/** `baton ta …` hands its arguments to @baton/ta's own CLI (also shipped alone as `baton-ta`). */
export function taCommand(): Command {
  return new Command('ta')
    .description(
      "technical indicators: `baton ta eval '<expr>' --csv <file> [--format csv|json]`, `baton ta list [--json]`",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (args: string[]) => {
      const code = await runTaCli(args, { stdout: process.stdout, stderr: process.stderr });
      // runTaCli has already printed its one-line error; only the exit code is left to pass on.
      if (code !== 0) throw new ExitCode(code);
    });
}

/** Carries an exit code from a sub-CLI that printed its own error. */
export class ExitCode extends BatonError {
  constructor(readonly exitCode: number) {
    super('E_INVALID_OPTION', '');
  }
}
