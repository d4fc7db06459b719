import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runTaCli } from '../src/cli/main.js';
import { getIndicator, listIndicators } from '../src/registry.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/ta/src/cli/bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'ta-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const closes = Array.from({ length: 30 }, (_, i) => 100 + Math.round(Math.sin(i / 3) * 500) / 100);
function writeCsv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const bars = writeCsv(
  'bars.csv',
  'Timestamp,Open,High,Low,Close,Volume\n' +
    closes
      .map((c, i) => `2024-01-${String(i + 1).padStart(2, '0')},${c - 1},${c + 1},${c - 2},${c},${1000 + i}`)
      .join('\n') +
    '\n',
);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bin in a child process. */
function runBin(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI in-process (same code path as the bin, faster). */
async function run(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runTaCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

const sma5 = getIndicator('sma')!.compute([Float64Array.from(closes)], { period: 5 })[0];

describe('ta bin (child process)', () => {
  it('eval --format json gives columns lined up with the input, null in warm-up', async () => {
    const r = await runBin(['eval', 'sma(close, 5)', '--csv', bars, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { columns: Record<string, (number | null)[]> };
    expect(Object.keys(out.columns)).toEqual(['sma(close, 5)']);
    const col = out.columns['sma(close, 5)'];
    expect(col.length).toBe(30);
    expect(col.slice(0, 4)).toEqual([null, null, null, null]);
    col.slice(4).forEach((v, i) => expect(v).toBe(sma5[i + 4]));
  });

  it('eval --format csv gives timestamp + result columns, empty cells in warm-up', async () => {
    const r = await runBin(['eval', 'sma(close, 5)', 'close > sma(close, 5)', '--csv', bars]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBe(31);
    expect(lines[0]).toBe('timestamp,"sma(close, 5)","close > sma(close, 5)"');
    expect(lines[1]).toBe('2024-01-01,,');
    expect(lines[5]).toBe(`2024-01-05,${sma5[4]},${closes[4] > sma5[4] ? 1 : 0}`);
  });

  it('list prints the registry as a table and as JSON', async () => {
    const [table, json] = await Promise.all([runBin(['list']), runBin(['list', '--json'])]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+GROUP\s+CALL/);
    expect(table.stdout).toMatch(/\nsma\s+trend\s+sma\(series, period=30\)/);
    const parsed = JSON.parse(json.stdout) as { indicators: { id: string }[] };
    expect(parsed.indicators.map((i) => i.id)).toEqual(listIndicators().map((i) => i.id));
  });

  it('an error prints one clear line (plus the caret) and exits non-zero, no stack', async () => {
    const r = await runBin(['eval', 'smaa(close, 2)', '--csv', bars]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "ta: error: unknown function 'smaa' at 1:1 — did you mean 'sma'?\n  smaa(close, 2)\n  ^^^^\n",
    );
    const v = await runBin(['eval', 'smaa(close, 2)', '--csv', bars, '--verbose']);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/\n\s+at /);
  });
});

describe('ta CLI (in-process)', () => {
  it('accepts o/h/l/c/v aliases and reads OHLCV implicitly', async () => {
    const path = writeCsv('alias.csv', 'date,o,h,l,c,v\nd1,1,3,0,2,10\nd2,2,4,1,3,20\n');
    const r = await run(['eval', 'true_range()', '--csv', path, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ columns: { 'true_range()': [null, 3] } });
  });

  it("accepts the source runner's bars: text columns (symbol, tf) beside the numeric ones", async () => {
    const path = writeCsv(
      'orb.csv',
      [
        'timestamp,symbol,tf,o,h,l,c,v,spread,zscore',
        '2018-01-01 22:00:00,USDJPY,5m,112.594,112.623,112.570,112.587,26.58,0.005,0.0',
        '2018-01-01 22:05:00,USDJPY,5m,112.587,112.620,112.578,112.601,156.37,0.005,0.1',
      ].join('\n'),
    );
    const r = await run(['eval', 'close - open', 'spread * 2', '--csv', path, '--format', 'json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { columns: Record<string, number[]> };
    expect(out.columns['spread * 2']).toEqual([0.01, 0.01]);
    expect(out.columns['close - open']![1]).toBeCloseTo(0.014, 10);
    const named = await run(['eval', 'symbol', '--csv', path]);
    expect(named.code).not.toBe(0);
    expect(named.stderr).toMatch(/symbol/);
  });

  it('writes an index column when the file has no timestamp', async () => {
    const path = writeCsv('nots.csv', 'close\n1\n2\n3\n');
    const r = await run(['eval', 'close * 2', '--csv', path]);
    expect(r.stdout).toBe('index,close * 2\n0,2\n1,4\n2,6\n');
  });

  it('multi-output results and member access become columns', async () => {
    const bands = {
      id: 'cli_test_bands',
      aliases: [],
      group: 'volatility' as const,
      description: 'test',
      inputs: ['series' as const],
      params: [],
      outputs: ['upper', 'lower'],
      lookback: () => 0,
      compute: (ins: readonly Float64Array[]) => [ins[0].map((x) => x + 1), ins[0].map((x) => x - 1)],
    };
    const { registerIndicator, unregisterIndicator } = await import('../src/registry.js');
    registerIndicator(bands);
    try {
      const path = writeCsv('mo.csv', 'close\n1\n2\n');
      const r = await run([
        'eval',
        'cli_test_bands()',
        'cli_test_bands().lower',
        '--csv',
        path,
        '--format',
        'json',
      ]);
      expect(JSON.parse(r.stdout)).toEqual({
        columns: {
          'cli_test_bands.upper': [2, 3],
          'cli_test_bands.lower': [0, 1],
          'cli_test_bands().lower': [0, 1],
        },
      });
    } finally {
      unregisterIndicator(bands.id);
    }
  });

  it.each([
    [['eval', 'sma(close, 50)', '--csv', bars], 1, /^ta: error: sma: .*50.* at 1:1\n/],
    [
      ['eval', 'sma(close, 0)', '--csv', bars],
      1,
      /^ta: error: parameter 'period' of 'sma' must be between 1 and 100000, got 0 at 1:12\n/,
    ],
    [
      ['eval', 'sma(close, 5', '--csv', bars],
      1,
      /^ta: error: expected ',' or '\)' in the call of 'sma' but found end of expression at 1:13\n/,
    ],
    [
      ['eval', 'sma(close, 5)', '--csv', join(dir, 'missing.csv')],
      1,
      /^ta: error: cannot read '.*missing.csv': no such file\n$/,
    ],
    [['eval', 'sma(close, 5)'], 2, /^ta: eval needs --csv <file>\n/],
    [['eval', '--csv', bars], 2, /^ta: eval needs an expression/],
    [
      ['eval', 'close', '--csv', bars, '--format', 'xml'],
      2,
      /^ta: --format must be csv or json, got 'xml'\n/,
    ],
    [['frobnicate'], 2, /^ta: unknown command 'frobnicate' \(commands: eval, list\)\n/],
    [['list', '--nope'], 2, /^ta: Unknown option '--nope'/],
  ])('%j exits %i', async (args, code, stderr) => {
    const r = await run(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [
      'bad-cell.csv',
      'timestamp,close\nt1,1\nt2,x1\n',
      "ta: error: malformed CSV {file}: row 2 (line 3), column 'close': 'x1' is not a number\n",
    ],
    [
      'bad-count.csv',
      'timestamp,close\nt1,1,2\n',
      'ta: error: malformed CSV {file}: row 1 (line 2) has 3 fields, expected 2\n',
    ],
    [
      'no-close.csv',
      'timestamp,open\nt1,1\n',
      'ta: error: malformed CSV {file}: missing close column (header: timestamp,open); want close or c\n',
    ],
    [
      'empty.csv',
      '',
      'ta: error: malformed CSV {file}: the file is empty (want a header such as timestamp,open,high,low,close,volume)\n',
    ],
  ])('malformed CSV %s names the problem', async (name, text, message) => {
    const path = writeCsv(name, text);
    const r = await run(['eval', 'close', '--csv', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(message.replace('{file}', path));
  });

  it('help exits 0 and prints usage', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ta eval '<expr>'/);
  });
});
