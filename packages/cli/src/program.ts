import { backtestCommand } from './commands/backtest.js';
import { profileCommand } from './commands/profile.js';
import { Command, CommanderError } from 'commander';
import { BatonError } from '@baton/core';
import { DEFAULT_DATA_DIR, withStore, processIo, type GlobalOptions, type Io } from './context.js';
import { enqueueCommand, jobsCommand } from './commands/jobs.js';
import { workerCommand } from './commands/worker.js';
import { devCommand } from './commands/dev.js';
import { workflowsCommand } from './commands/workflows.js';
import { flowsCommand } from './commands/flows.js';
import { ExitCode, taCommand } from './commands/ta.js';
import { configCommand } from './commands/config.js';
import { queryCommand, queriesCommand } from './commands/query.js';
import { tasksCommand } from './commands/tasks.js';
import { sessionCommand, sessionsCommand } from './commands/sessions.js';
import { slaCommand } from './commands/sla.js';
import { architectCommand } from './commands/architect.js';
import { artifactsCommand, runsCommand } from './commands/artifacts.js';
import { keysCommand, serverCommand } from './commands/server.js';
import { aiCommand, usageCommand } from './commands/usage.js';
import { contextCommand } from './commands/context.js';
import { chatCommand } from './commands/chat.js';
import { policyCommand } from './commands/policy.js';
import { approvalsCommand, auditCommand } from './commands/approvals.js';
import { agentsCommand } from './commands/agents.js';

/** Builds the `baton` command tree. */
export function buildProgram(io: Io = processIo): Command {
  const program = new Command('baton')
    .description('Baton: durable jobs, workflows and agents on PostgreSQL or embedded PGlite')
    .option('-d, --database <url>', 'PostgreSQL URL (default: $BATON_DATABASE_URL, else embedded PGlite)')
    .option('--data-dir <dir>', 'PGlite data directory for the embedded store', DEFAULT_DATA_DIR)
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace, silent')
    .option('-v, --verbose', 'print stack traces and debug logs')
    .option('--config-dir <dir>', 'YAML configuration directory (default: $BATON_CONFIG_DIR, else ./baton)')
    .showHelpAfterError('(run with --help for usage)');
  const globals = () => program.opts<GlobalOptions>();
  program
    .command('migrate')
    .description('create or upgrade the database schema (safe to run from many processes at once)')
    .action(async () => {
      await withStore(
        globals(),
        async (store) => {
          const applied = await store.migrate();
          io.out(
            applied.length
              ? `applied migrations ${applied.join(', ')} to ${store.location}`
              : `${store.location} is up to date`,
          );
        },
        { checkSchema: false },
      );
    });
  program.addCommand(workerCommand(globals, io));
  program.addCommand(enqueueCommand(globals, io));
  program.addCommand(jobsCommand(globals, io));
  program.addCommand(workflowsCommand(globals, io));
  program.addCommand(flowsCommand(globals, io));
  program.addCommand(devCommand(globals, io));
  program.addCommand(taCommand());
  program.addCommand(configCommand(globals, io));
  program.addCommand(queryCommand(globals, io));
  program.addCommand(queriesCommand(globals, io));
  program.addCommand(architectCommand(globals, io));
  program.addCommand(tasksCommand(globals, io));
  program.addCommand(sessionsCommand(globals, io));
  program.addCommand(sessionCommand(globals, io));
  program.addCommand(slaCommand(globals, io));
  program.addCommand(artifactsCommand(globals, io));
  program.addCommand(runsCommand(globals, io));
  program.addCommand(backtestCommand(globals, io));
  program.addCommand(profileCommand(globals, io));
  program.addCommand(serverCommand(globals, io));
  program.addCommand(keysCommand(globals, io));
  program.addCommand(usageCommand(globals, io));
  program.addCommand(aiCommand(globals, io));
  program.addCommand(policyCommand(globals, io));
  program.addCommand(agentsCommand(globals, io));
  program.addCommand(approvalsCommand(globals, io));
  program.addCommand(auditCommand(globals, io));
  program.addCommand(contextCommand(globals, io));
  program.addCommand(chatCommand(globals, io));
  return program;
}

/** Runs the CLI; returns the exit code. Errors print one line (a stack only with --verbose). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  // Every command, subcommands too, exits through here and writes through `io` (commander gives a
  // command added with addCommand neither setting).
  const each = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    cmd.commands.forEach(each);
  };
  each(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ExitCode) return err.exitCode;
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    if (err instanceof BatonError) io.err(`error [${err.code}]: ${err.message}`);
    else io.err(`error: ${(err as Error)?.message ?? String(err)}`);
    if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}
