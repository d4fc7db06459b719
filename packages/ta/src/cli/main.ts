/**
 * The `ta` command: `ta eval '<expr>' --csv <file> [--format csv|json]` and
 * `ta list [--json]`. Exposed as {@link runTaCli} so the `baton` CLI can mount it
 * as `baton ta ...`; bin.ts is the stand-alone entry.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseCsv } from '../csv.js';
import { isTaError } from '../errors.js';
import { OHLCV, compileExpression, toColumns } from '../expr/compile.js';
import { isExplicitInput } from '../expr/typecheck.js';
import { listIndicators, registryToJSON } from '../registry.js';

/** Where the CLI writes. `process.stdout` / `process.stderr` fit. */
export interface CliIO {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

const USAGE = `usage:
  ta eval '<expr>' ['<expr>' ...] --csv <file> [--format csv|json] [--verbose]
  ta list [--json]

Evaluates expressions over an OHLCV CSV (header: timestamp,open,high,low,close,volume;
o/h/l/c/v and date/time accepted). Output rows line up with input rows; warm-up is an
empty cell (csv) or null (json). See docs/expressions.md.`;

/** A usage mistake: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

/**
 * Runs the `ta` CLI with `argv` (arguments after the program name).
 * Returns the exit code: 0 on success, 1 on an error in the input or expression,
 * 2 on a usage error. Never throws; prints one clear error line (plus a caret frame
 * for expression errors), and the stack only with `--verbose`.
 */
export async function runTaCli(argv: readonly string[], io: CliIO): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`ta: ${e.message}\n(run 'ta --help' for usage)\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`ta: error: ${msg}\n`);
    if (isTaError(e) && typeof e.details.frame === 'string') io.stderr.write(`${e.details.frame}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'eval':
      return evalCommand(rest, io);
    case 'list':
      return listCommand(rest, io);
    default:
      throw new UsageError(`unknown command '${command}' (commands: eval, list)`);
  }
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

async function evalCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {
    csv: { type: 'string' },
    format: { type: 'string', default: 'csv' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("eval needs an expression, e.g. ta eval 'sma(close, 20)' --csv bars.csv");
  const file = values.csv;
  if (typeof file !== 'string') throw new UsageError('eval needs --csv <file>');
  const format = values.format;
  if (format !== 'csv' && format !== 'json')
    throw new UsageError(`--format must be csv or json, got '${String(format)}'`);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new Error(`cannot read '${file}': ${why}`, { cause: e });
  }
  const table = parseCsv(text, file);
  // OHLCV names first so "did you mean" prefers them; extra CSV columns are usable too.
  const names = [...new Set([...OHLCV.filter((c) => c in table.columns), ...Object.keys(table.columns)])];
  const result: Record<string, Float64Array> = {};
  for (const src of positionals) {
    const compiled = compileExpression(src, { columns: names });
    const value = compiled.evaluate({ columns: table.columns });
    Object.assign(result, toColumns(value, table.length, src.trim().replace(/\s+/g, ' '), src));
  }
  if (format === 'json') writeJson(result, io);
  else writeCsv(result, table.timestamps, table.length, io);
  return 0;
}

function writeJson(result: Record<string, Float64Array>, io: CliIO): void {
  const columns: Record<string, (number | null)[]> = {};
  for (const [k, arr] of Object.entries(result)) {
    columns[k] = Array.from(arr, (x) => (Number.isFinite(x) ? x : null));
  }
  io.stdout.write(`${JSON.stringify({ columns })}\n`);
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function writeCsv(
  result: Record<string, Float64Array>,
  timestamps: readonly string[] | undefined,
  n: number,
  io: CliIO,
): void {
  const names = Object.keys(result);
  const cols = names.map((k) => result[k]);
  const first = timestamps === undefined ? 'index' : 'timestamp';
  let chunk = `${[first, ...names].map(csvCell).join(',')}\n`;
  for (let i = 0; i < n; i++) {
    let line = timestamps === undefined ? String(i) : csvCell(timestamps[i]);
    for (const c of cols) {
      const x = c[i];
      line += Number.isNaN(x) ? ',' : `,${x}`;
    }
    chunk += `${line}\n`;
    // Flush in blocks so a million-row file does not become one giant string.
    if (chunk.length > 1 << 16) {
      io.stdout.write(chunk);
      chunk = '';
    }
  }
  io.stdout.write(chunk);
}

async function listCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, verbose: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`list takes no arguments, got '${positionals[0]}'`);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(registryToJSON(), null, 2)}\n`);
    return 0;
  }
  const rows = listIndicators().map((ind) => [
    ind.id,
    ind.group,
    `${ind.id}(${[
      ...ind.inputs.filter(isExplicitInput),
      ...ind.params.map((p) => `${p.name}=${p.default}`),
    ].join(', ')})`,
    ind.inputs.filter((i) => !isExplicitInput(i)).join(',') || '-',
    ind.outputs.length === 1 ? 'value' : ind.outputs.join(','),
    String(ind.lookback({})),
    ind.aliases.join(',') || '-',
  ]);
  const header = ['ID', 'GROUP', 'CALL', 'READS', 'OUTPUTS', 'LOOKBACK', 'ALIASES'];
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmt = (r: string[]): string =>
    r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]))).join('  ');
  io.stdout.write(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
  return 0;
}
