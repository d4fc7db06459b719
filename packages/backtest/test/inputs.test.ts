// Bad and unusual input: bars CSV (spec section 1), manifests (errors at file:line:col), state resume.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@baton/flows';
import { isBatonError } from '@baton/core';
import { gridPoints, loadManifest, parseBars, runBacktest, runSettings } from '../src/index.js';
import { MANIFEST, SAMPLE_CSV, runSample, sampleSettings } from './fixtures.js';

const opts = { symbol: 'USDJPY', timeframe: '5m', source: 'bars.csv' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
}

describe('bars CSV', () => {
  it('reads the sample as it is: text columns accepted, extra columns kept only for zscore', () => {
    const { bars, report } = parseBars(readFileSync(SAMPLE_CSV, 'utf8'), opts);
    expect(bars.length).toBe(5000);
    expect(report.skipped_rows).toBe(0);
    expect(bars.ts[0]).toBe('2018-01-01 22:00:00');
    expect(bars.zscore[0]).toBe(0);
  });

  it('takes header aliases in order, blank volume and spread as 0, and files without symbol or tf columns', () => {
    const csv = 'Time,Open,High,Low,Close,Volume,Spread\n2018-01-02 08:00:00,1,2,0.5,1.5,,\n';
    const { bars } = parseBars(csv, opts);
    expect([bars.o[0], bars.h[0], bars.l[0], bars.c[0], bars.v[0], bars.spread[0]]).toEqual([
      1, 2, 0.5, 1.5, 0, 0,
    ]);
    expect(bars.tf[0]).toBe('5m');
  });

  it('reads a headerless file by position, extra columns after spread', () => {
    const csv =
      '2018-01-02 08:00:00,USDJPY,5m,1,2,0.5,1.5,10,0.005,42\n2018-01-02 08:05:00,USDJPY,5m,1,2,0.5,1.5,10,0.005,43\n';
    const { bars } = parseBars(csv, opts);
    expect(bars.length).toBe(2);
    expect(bars.spread[1]).toBe(0.005);
  });

  it('counts skipped rows by reason with the line, and refuses them under --strict', () => {
    const csv =
      'timestamp,symbol,tf,o,h,l,c,v,spread\n,USDJPY,5m,1,2,0.5,1.5,1,0\n2018-01-02 08:05:00,USDJPY,5m,x,2,0.5,1.5,1,0\n2018-01-02 08:10:00,USDJPY,5m,1,2,0.5,1.5,1,0\n';
    const { bars, report } = parseBars(csv, opts);
    expect(bars.length).toBe(1);
    expect(report).toMatchObject({
      skipped_rows: 2,
      reasons: { timestamp_missing: 1, price_parse_error: 1 },
      last_error: { code: 'price_parse_error', line: 3 },
    });
    expect(code(() => parseBars(csv, { ...opts, strict: true }))).toBe(
      'E_INPUT_INVALID: bars.csv:2: row skipped (timestamp_missing) and --strict refuses skipped rows',
    );
  });

  it('drops other symbols silently, and refuses an empty symbol cell or a non-numeric spread with the line', () => {
    const head = 'timestamp,symbol,tf,o,h,l,c,v,spread\n';
    const { bars, report } = parseBars(
      `${head}2018-01-02 08:00:00,EURUSD,5m,1,2,0.5,1.5,1,0\n2018-01-02 08:00:00,usdjpy,5m,1,2,0.5,1.5,1,0\n`,
      opts,
    );
    expect(bars.length).toBe(1);
    expect(report.other_symbol_rows).toBe(1);
    expect(code(() => parseBars(`${head}2018-01-02 08:00:00,,5m,1,2,0.5,1.5,1,0\n`, opts))).toMatch(
      /^E_INPUT_INVALID: bars.csv:2: the symbol cell is empty/,
    );
    expect(code(() => parseBars(`${head}2018-01-02 08:00:00,USDJPY,5m,1,2,0.5,1.5,1,wide\n`, opts))).toMatch(
      /^E_INPUT_INVALID: bars.csv:2: spread 'wide' is not a number/,
    );
  });

  it('says which required columns are missing, and refuses a file with no bar of the symbol', () => {
    expect(code(() => parseBars('timestamp,symbol,open,high\nx,y,z,w\n', opts))).toMatch(
      /missing required columns: l, c/,
    );
    expect(
      code(() => parseBars('timestamp,symbol,tf,o,h,l,c\n2018-01-02 08:00:00,EURUSD,5m,1,2,0.5,1.5\n', opts)),
    ).toMatch(/no bar of USDJPY survives loading/);
  });

  it('keeps only the --start-ts/--end-ts window, with offsets honoured', () => {
    const head = 'timestamp,o,h,l,c\n';
    const rows = ['2018-01-02T08:00:00Z', '2018-01-02T09:00:00+01:00', '2018-01-02 09:00:00', 'garbage'].map(
      (t) => `${t},1,2,0.5,1.5`,
    );
    const { bars, report } = parseBars(head + rows.join('\n'), {
      ...opts,
      startTs: '2018-01-02T08:00:00Z',
      endTs: '2018-01-02T08:30:00Z',
    });
    expect(bars.ts).toEqual(['2018-01-02T08:00:00Z', '2018-01-02T09:00:00+01:00']);
    expect(report.reasons).toEqual({ timestamp_parse_error: 1 });
    expect(code(() => parseBars(head, { ...opts, startTs: 'yesterday' }))).toMatch(
      /--start-ts 'yesterday' is not an ISO-8601 time/,
    );
  });
});

describe('manifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-manifest-'));
  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const source = readFileSync(MANIFEST, 'utf8');

  it("the source's manifest loads without a warning", () => {
    expect(loadManifest(MANIFEST).warnings).toEqual([]);
    expect(sampleSettings().runner).toMatchObject({
      min_or_atr_ratio: 0.12,
      allowed_sessions: ['LDN', 'NY'],
      ev_mode: 'off',
      include_expected_slip: true,
    });
  });

  it('a wrong type is an error at file:line:col with the key path', () => {
    const f = write('bad-type.yaml', source.replace('    k_tp: 1.25', '    k_tp: fast'));
    try {
      loadManifest(f);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const d = (err as ConfigError).diagnostics[0]!;
      expect({ line: d.line, col: d.col, path: d.path }).toEqual({
        line: 22,
        col: 11,
        path: 'strategy.parameters.k_tp',
      });
      expect(d.message).toBe("expected number, found 'fast' (text)");
    }
  });

  it('a misspelt key is a warning with a did-you-mean, a missing block an error', () => {
    const typo = loadManifest(
      write('typo.yaml', source.replace('  instruments:', '  instrumentz: []\n  instruments:')),
    );
    expect(typo.warnings.map((w) => `${w.line}:${w.path}: ${w.message}`)).toEqual([
      "13:strategy.instrumentz: unknown key 'instrumentz' is ignored (did you mean 'instruments'?)",
    ]);
    const unread = loadManifest(
      write(
        'unread.yaml',
        source.replace('    ev_mode: off\n  size', '    ev_mode: off\n    ev_moed: lcb\n  size'),
      ),
    );
    expect(unread.warnings.map((w) => w.message)).toEqual(["'ev_moed' is stored but not read by the runner"]);
    expect(() =>
      loadManifest(write('nometa.yaml', source.replace(/^meta:[\s\S]*?^strategy:/m, 'strategy:'))),
    ).toThrow(/required key is missing/);
  });

  it('refuses an instrument choice that matches none, and parts of the source the runner does not implement', () => {
    const m = loadManifest(MANIFEST).value;
    expect(code(() => runSettings(m, { symbol: 'EURUSD' }))).toMatch(
      /no instrument of manifest 'day_orb_5m_v1' matches EURUSD \(it has: USDJPY conservative, USDJPY bridge\)/,
    );
    const cal = loadManifest(
      write(
        'cal.yaml',
        source.replace('    ev_mode: off\n  size', '    ev_mode: off\n    calibrate_days: 3\n  size'),
      ),
    ).value;
    expect(code(() => runSettings(cal))).toMatch(/calibrate_days > 0 is not supported/);
  });

  it('a file that is not there, empty or a list says so', () => {
    expect(code(() => loadManifest(join(dir, 'nope.yaml')))).toMatch(/^E_NOT_FOUND: cannot read/);
    expect(() => loadManifest(write('empty.yaml', '# nothing\n'))).toThrow(
      /expected a mapping of keys, found an empty file/,
    );
    expect(() => loadManifest(write('list.yaml', '- a\n'))).toThrow(
      /expected a mapping of keys, found a list/,
    );
  });
});

describe('state.json resume (9)', () => {
  it('continues counts and skips bars up to the last timestamp; a changed fingerprint is refused with a warning', () => {
    const lines = readFileSync(SAMPLE_CSV, 'utf8').trim().split('\n');
    const first = runSample('conservative', {}, lines.slice(0, 2001).join('\n')).result;
    const resumed = runSample('conservative', { resume: first.state }, lines.join('\n')).result;
    expect(resumed.counters.resume_skipped_bars).toBe(2000);
    expect(resumed.trades).toBeGreaterThanOrEqual(first.trades);
    expect(resumed.records.length).toBe(resumed.trades - first.trades);
    expect(resumed.equity_curve.slice(0, first.equity_curve.length)).toEqual(first.equity_curve);

    const other = runSettings(loadManifest(MANIFEST).value, { overrides: { or_n: 4 } });
    const { bars } = parseBars(lines.join('\n'), opts);
    const refused = runBacktest(bars, other, { resume: first.state });
    expect(refused.warnings[0]).toMatch(/^state refused: its config fingerprint 41b2fd40836c5132 differs/);
    expect(refused.counters.resume_skipped_bars).toBe(0);
  });
});

describe('sweep grids', () => {
  it('orders points by parameter name, the first varying slowest, and refuses more than 10,000 points before building them', () => {
    expect(gridPoints({ k_tp: [1, 2], or_n: [4, 6] })).toEqual([
      { k_tp: 1, or_n: 4 },
      { k_tp: 1, or_n: 6 },
      { k_tp: 2, or_n: 4 },
      { k_tp: 2, or_n: 6 },
    ]);
    const many = Array.from({ length: 1000 }, (_, i) => i);
    expect(code(() => gridPoints({ a: many, b: many, c: many }))).toBe(
      'E_INVALID_OPTION: the grid has 1000000000 points, over the limit of 10000',
    );
  });
});
