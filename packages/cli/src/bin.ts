#!/usr/bin/env node
import { chatScreenModule } from './chat-ui/load.js';

const argv = process.argv.slice(2);

/** The command a command line names: its first word that is not a global option or its value. */
function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (/^(-d|--database|--data-dir|--log-level|--config-dir)$/.test(args[i]!)) i++;
    else if (!args[i]!.startsWith('-')) return args[i];
  }
  return undefined;
}

/**
 * `baton chat` at a terminal, opening its screen (not -p, help, a subcommand, or the -r picker):
 * the screen is drawn before the rest of the CLI loads, which takes half a second.
 */
const chatScreen =
  commandOf(argv) === 'chat' &&
  process.stdin.isTTY === true &&
  process.stdout.isTTY === true &&
  !argv.some((a) =>
    // -p, -r or -h alone or in a cluster (-cp, -phello); their long forms; the subcommands.
    a.startsWith('--') ? /^--(print|resume|help)(=|$)/.test(a) : /^(-[a-zA-Z]*[prh]|undo$|gc$)/.test(a),
  );

// The screen's bundle (scripts/bundle-screen.mjs): one module instead of ~550.
const early = chatScreen ? await chatScreenModule() : undefined;
early?.openEarlyScreen();
const { main } = await import('./program.js');
const { processIo } = await import('./context.js');
// Anything printed on stderr before the chat adopts the screen (an error) takes its place.
const io = early
  ? {
      ...processIo,
      err: (line: string) => {
        early.closeEarlyScreen();
        processIo.err(line);
      },
    }
  : processIo;
process.exitCode = await main(argv, io);
early?.closeEarlyScreen();
