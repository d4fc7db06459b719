// Registry: metadata for every indicator, lookup by id/alias, JSON export, user registration.
import { describe, expect, it } from 'vitest';
import {
  createStream,
  getIndicator,
  listIndicators,
  registerIndicator,
  registryToJSON,
  suggestName,
  TaError,
  unregisterIndicator,
  type Indicator,
} from '../src/index.js';

const REQUIRED = [
  ...[
    'rolling_sum',
    'rolling_mean',
    'rolling_std',
    'rolling_median',
    'rolling_min',
    'rolling_max',
    'rolling_argmax',
    'rolling_argmin',
    'rolling_ema',
    'rolling_rma',
    'diff',
    'shift',
    'sign',
    'cumulative_sum',
    'true_range',
    'typical_price',
  ],
  ...['sma', 'ema', 'wma', 'hma', 'macd', 'adx', 'ichimoku', 'psar', 'supertrend', 'elder_ray', 'fisher'],
  ...['rsi', 'stochastic', 'cci', 'roc', 'williams_r', 'cmo', 'ao', 'coppock', 'mfi', 'vortex'],
  ...['atr', 'bbands', 'donchian', 'keltner'],
  ...['obv', 'vwap', 'cmf', 'klinger'],
  ...[
    'cross',
    'crossup',
    'crossdown',
    'rising',
    'falling',
    'rising_pct',
    'falling_pct',
    'in_channel',
    'out_channel',
    'enter',
    'exit',
  ],
  'swing_points',
];

describe('registry', () => {
  it('holds every indicator the issue names, with complete metadata', () => {
    for (const id of REQUIRED) {
      const ind = getIndicator(id);
      expect(ind, id).toBeDefined();
      expect(ind!.id).toBe(id);
      expect(ind!.outputs.length).toBeGreaterThan(0);
      expect(ind!.inputs.length).toBeGreaterThan(0);
      expect(typeof ind!.description).toBe('string');
      for (const p of ind!.params) {
        expect(p.min <= p.default && p.default <= p.max, `${id}.${p.name}`).toBe(true);
        expect(['int', 'float']).toContain(p.type);
      }
      expect(Number.isInteger(ind!.lookback({}))).toBe(true);
    }
    expect(listIndicators().length).toBeGreaterThanOrEqual(REQUIRED.length);
  });

  it('uses TA-Lib defaults and positional order where TA-Lib defines the indicator', () => {
    const defaults = (id: string): Record<string, number> =>
      Object.fromEntries(getIndicator(id)!.params.map((p) => [p.name, p.default]));
    expect(getIndicator('macd')!.params.map((p) => p.name)).toEqual([
      'fast_period',
      'slow_period',
      'signal_period',
    ]);
    expect(defaults('macd')).toEqual({ fast_period: 12, slow_period: 26, signal_period: 9 });
    expect(defaults('bbands')).toEqual({ period: 5, nbdevup: 2, nbdevdn: 2 });
    expect(defaults('sma')).toEqual({ period: 30 });
    expect(defaults('stochastic')).toEqual({ fastk_period: 5, slowk_period: 3, slowd_period: 3 });
    expect(getIndicator('adx')!.lookback({ period: 14 })).toBe(27);
    expect(getIndicator('macd')!.lookback({})).toBe(33);
    expect(getIndicator('rsi')!.lookback({})).toBe(14);
  });

  it('finds indicators by alias, case-insensitively', () => {
    expect(getIndicator('STOCH')?.id).toBe('stochastic');
    expect(getIndicator('willr')?.id).toBe('williams_r');
    expect(getIndicator('sar')?.id).toBe('psar');
    expect(getIndicator('nope')).toBeUndefined();
  });

  it('suggests the nearest name', () => {
    expect(suggestName('rsii')).toBe('rsi');
    expect(suggestName('bbandz')).toBe('bbands');
    expect(suggestName('macdd')).toBe('macd');
    expect(suggestName('qqqqqqqqqq')).toBeUndefined();
  });

  it('exports JSON-serializable metadata', () => {
    const j = registryToJSON();
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    const adx = j.indicators.find((i) => i.id === 'adx')!;
    expect(adx).toMatchObject({
      group: 'trend',
      inputs: ['high', 'low', 'close'],
      outputs: ['adx', 'plus_di', 'minus_di'],
      lookback: 27,
      builtin: true,
    });
  });

  it('registers user indicators, streams them by recomputation, and rejects duplicates', () => {
    const double: Indicator = {
      id: 'double_it',
      aliases: ['x2'],
      group: 'primitive',
      description: 'twice the input',
      inputs: ['series'],
      params: [],
      outputs: ['value'],
      lookback: () => 0,
      compute: (ins) => [ins[0].map((v) => v * 2)],
    };
    registerIndicator(double);
    try {
      expect(getIndicator('X2')).toBe(double);
      expect(registryToJSON().indicators.find((i) => i.id === 'double_it')?.builtin).toBe(false);
      const s = createStream('double_it');
      expect(s.update(2).value).toBe(4);
      expect(s.peek(5).value).toBe(10);
      expect(s.update(3).value).toBe(6);
      const err = (() => {
        try {
          registerIndicator({ ...double, id: 'other', aliases: ['sma'] });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TaError);
      expect((err as TaError).code).toBe('E_DUPLICATE_INDICATOR');
      expect((err as TaError).message).toMatch(/"sma" is already taken by "sma"/);
      expect(() => registerIndicator(double)).toThrow(/already taken/);
      expect(() => registerIndicator({ ...double, id: 'bad id' })).toThrow(/identifier/);
    } finally {
      expect(unregisterIndicator('double_it')).toBe(true);
    }
    expect(getIndicator('x2')).toBeUndefined();
    expect(() => unregisterIndicator('sma')).toThrow(/built-in/);
  });

  it('unknown names in createStream say what to do', () => {
    expect(() => createStream('rsii')).toThrow(/unknown indicator "rsii"; did you mean "rsi"\?/);
  });
});
