import { Command } from 'commander';
import { stringify } from 'yaml';
import {
  ConfigError,
  KIND_NAMES,
  configJsonSchema,
  formatDiagnostic,
  formatLocation,
  isKindName,
  loadConfig,
  type Config,
  type ExplainEntry,
} from '@baton/flows';
import { BatonError, nearest } from '@baton/core';
import type { GlobalOptions, Io } from '../context.js';
import { ExitCode } from './ta.js';

/** The configuration directory: --config-dir, else BATON_CONFIG_DIR, else ./baton. */
export function configDir(g: GlobalOptions, given?: string): string {
  return given ?? g.configDir ?? process.env.BATON_CONFIG_DIR ?? 'baton';
}

/**
 * Loads the configuration for a command. An invalid configuration prints every error (one per
 * line) and exits 1, instead of the single line other errors get.
 */
export function loadConfigFor(g: GlobalOptions, io: Io, env?: string): Promise<Config> {
  return reportingConfigErrors(io, () => loadConfig(configDir(g), env ? { environment: env } : {}));
}

/** Runs `fn`; a ConfigError it throws is printed as one line per diagnostic, and the command exits 1. */
export async function reportingConfigErrors<T>(io: Io, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) io.err(formatDiagnostic(d));
    throw new ExitCode(1);
  }
}

export function configCommand(globals: () => GlobalOptions, io: Io): Command {
  const config = new Command('config').description(
    'check and inspect the YAML configuration (./baton by default)',
  );
  config
    .command('validate')
    .description('print every error and warning, one per line; exit 1 on errors (--strict: on warnings too)')
    .argument('[dir]', 'configuration directory (default: --config-dir, $BATON_CONFIG_DIR or ./baton)')
    .option('--strict', 'treat warnings as errors')
    .option('--env <name>', 'the environment whose overrides apply (default: $BATON_ENV or development)')
    .action(async (dir: string | undefined, o: { strict?: boolean; env?: string }) => {
      const path = configDir(globals(), dir);
      let diagnostics;
      let files = 0;
      try {
        const c = await loadConfig(path, o.env ? { environment: o.env } : {});
        diagnostics = c.warnings;
        files = c.files.length;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        diagnostics = err.diagnostics;
      }
      for (const d of diagnostics) io.out(formatDiagnostic(d));
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
      const failed = errors > 0 || (o.strict === true && warnings > 0);
      io.err(
        failed
          ? `${path}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${errors === 0 ? ' (--strict)' : ''}`
          : `${path}: valid (${files} file${files === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`,
      );
      if (failed) throw new ExitCode(1);
    });
  config
    .command('show')
    .description('print the merged configuration, or the value at a key path (secrets from ${…} masked)')
    .argument('[path]', 'key path, kind first, e.g. routing_rules.environment_routing.bug_fix.priority')
    .option('--json', 'print JSON instead of YAML')
    .option(
      '--explain',
      'for every value: the file:line that set it, the values it overrode, the variables it came from',
    )
    .option('--env <name>', 'the environment whose overrides apply (default: $BATON_ENV or development)')
    .action(async (path: string | undefined, o: { json?: boolean; explain?: boolean; env?: string }) => {
      const c = await loadConfigFor(globals(), io, o.env);
      if (path !== undefined && c.get(path) === undefined) throw unknownPath(c, path);
      if (o.explain) {
        const entries = c.explain(path);
        io.out(o.json ? JSON.stringify(entries, null, 2) : entries.map(explainLine).join('\n'));
        return;
      }
      const v = c.masked(path);
      io.out(o.json ? JSON.stringify(v, null, 2) : stringify(v, { lineWidth: 0 }).trimEnd());
    });
  config
    .command('schema')
    .description('print the JSON Schema of a kind (for editors), or of an overlay file without --kind')
    .option('--kind <kind>', `one of ${KIND_NAMES.join(', ')}`)
    .action((o: { kind?: string }) => {
      if (o.kind !== undefined && !isKindName(o.kind)) {
        const guess = nearest(o.kind, KIND_NAMES);
        throw new BatonError(
          'E_INVALID_OPTION',
          `unknown kind '${o.kind}'${guess ? ` (did you mean '${guess}'?)` : ''}; kinds are ${KIND_NAMES.join(', ')}`,
        );
      }
      io.out(JSON.stringify(configJsonSchema(o.kind), null, 2));
    });
  return config;
}

function unknownPath(c: Config, path: string): BatonError {
  const parts = path.split('.');
  const parentPath = parts.slice(0, -1).join('.');
  const parent = parentPath ? c.get(parentPath) : c.value;
  const keys = parent && typeof parent === 'object' ? Object.keys(parent) : [];
  const guess = nearest(parts[parts.length - 1]!, keys);
  return new BatonError(
    'E_NOT_FOUND',
    `nothing is set at '${path}'${guess ? ` (did you mean '${[...parts.slice(0, -1), guess].join('.')}'?)` : keys.length ? ` (keys there: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''})` : ''}`,
  );
}

function explainLine(e: ExplainEntry): string {
  const value = e.value === undefined ? '(replaced)' : JSON.stringify(e.value);
  let line = `${e.path} = ${value}  ${formatLocation(e.setBy)}`;
  if (e.env) line += `  from ${e.env.raw}${e.env.unset.length ? ` (${e.env.unset.join(', ')} unset)` : ''}`;
  for (const o of e.overrode) line += `\n    overrode ${JSON.stringify(o.value)}  ${formatLocation(o.setBy)}`;
  return line;
}
