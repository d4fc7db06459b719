// Fill-model cases with values worked out from the specification's definitions (section 7), the EV
// estimators (5.4), sizing (6) and the state fingerprint (9).
import { describe, expect, it } from 'vitest';
import {
  bridgeProbability,
  bucketIndex,
  BUCKET_KEYS,
  configFingerprint,
  enterOnBar,
  EvEstimators,
  Position,
  pyFloat,
  wilsonLower,
  type Exit,
  type FillRules,
} from '../src/index.js';
import { sampleSettings } from './fixtures.js';

const rules = (policy: FillRules['policy'], maxHoldBars = 96): FillRules => ({
  pip: 0.01,
  policy,
  lambda: 0.35,
  driftScale: 2.5,
  slipCapPips: 1.5,
  maxHoldBars,
});
const exit = (): Exit => ({ price: NaN, reason: 'sl', prob: NaN });

describe('the entry bar (7.1)', () => {
  // BUY at OR high 100.00, TP 10 pips, SL 5 pips, no trail; the bar reaches both levels.
  const bar = [100.0, 100.2, 99.9, 100.15] as const;

  it('fills at most 1.5 pips past the level, the bar high permitting', () => {
    const fill = { price: 0 };
    enterOnBar(1, 100.0, 10, 5, 0, ...bar, rules('sl_first'), fill, exit());
    expect(fill.price).toBe(Math.min(100.2, 100.0 + 1.5 * 0.01));
    enterOnBar(1, 100.0, 10, 5, 0, 100.0, 100.01, 99.99, 100.0, rules('sl_first'), fill, exit());
    expect(fill.price).toBe(100.01);
  });

  it('conservative (stop first) books the stop; tp_first books the take-profit', () => {
    const e = exit();
    expect(enterOnBar(1, 100.0, 10, 5, 0, ...bar, rules('sl_first'), { price: 0 }, e)).toBe('exit');
    expect(e).toEqual({ price: 100.0 - 5 * 0.01, reason: 'sl', prob: NaN });
    enterOnBar(1, 100.0, 10, 5, 0, ...bar, rules('tp_first'), { price: 0 }, e);
    expect(e).toEqual({ price: 100.0 + 10 * 0.01, reason: 'tp', prob: NaN });
  });

  it('bridge blends distance and drift: p = 0.65·dSL/(dTP+dSL) + 0.35·½(1+tanh(2.5·drift)), exit p·TP + (1−p)·SL', () => {
    const e = exit();
    enterOnBar(1, 100.0, 10, 5, 0, ...bar, rules('probabilistic'), { price: 0 }, e);
    const tp = 100.0 + 10 * 0.01;
    const sl = 100.0 - 5 * 0.01;
    const dTp = Math.abs(tp - 100.0) / 0.01;
    const dSl = Math.abs(100.0 - sl) / 0.01;
    const drift = (100.15 - 100.0) / (100.2 - 99.9);
    const p = 0.65 * (dSl / (dTp + dSl)) + 0.35 * (0.5 * (1 + Math.tanh(2.5 * drift)));
    expect(e.prob).toBe(p);
    expect(e.price).toBe(p * tp + (1 - p) * sl);
    expect(e.reason).toBe(p >= 0.5 ? 'tp' : 'sl');
    expect(p).toBeCloseTo(0.5401163, 7);
  });

  it('bridge probabilities are clamped to [0.001, 0.999] and a SELL reads the drift the other way', () => {
    const p = bridgeProbability(-1, 100, 99.9, 100.05, 100, 100.1, 99.8, 99.8, rules('probabilistic'));
    const dTp = Math.abs(99.9 - 100) / 0.01;
    const dSl = Math.abs(100 - 100.05) / 0.01;
    const drift = (100 - 99.8) / (100.1 - 99.8);
    expect(p).toBe(0.65 * (dSl / (dTp + dSl)) + 0.35 * (0.5 * (1 + Math.tanh(2.5 * drift))));
    expect(
      bridgeProbability(1, 100, 100, 100, 100, 100, 100, 100, rules('probabilistic')),
    ).toBeGreaterThanOrEqual(0.001);
  });

  it('under bridge a stop alone carries probability 0, even a profitable trail; a take-profit alone 1', () => {
    const e = exit();
    // SELL at 100.00, trail 2 pips: low 99.90 triggers the trail at 99.92, the high 99.95 reaches it; TP 20 pips not reached
    enterOnBar(-1, 100.0, 20, 5, 2, 99.99, 99.95, 99.9, 99.93, rules('probabilistic'), { price: 0 }, e);
    expect(e.reason).toBe('trail');
    expect(e.price).toBeCloseTo(99.92, 12);
    expect(e.prob).toBe(0);
    enterOnBar(1, 100.0, 2, 5, 0, 100.0, 100.03, 100.0, 100.03, rules('probabilistic'), { price: 0 }, e);
    expect(e).toEqual({ price: 100.0 + 2 * 0.01, reason: 'tp', prob: 1 });
  });

  it('no fill when the bar never reaches the level; an open position when neither level is reached', () => {
    expect(
      enterOnBar(1, 100.0, 10, 5, 0, 99.9, 99.95, 99.8, 99.9, rules('sl_first'), { price: 0 }, exit()),
    ).toBe('no_fill');
    expect(
      enterOnBar(1, 100.0, 10, 5, 0, 100.0, 100.02, 99.99, 100.01, rules('sl_first'), { price: 0 }, exit()),
    ).toBe('open');
  });
});

describe('an open position (7.3)', () => {
  const open = () =>
    new Position(
      1,
      100.015,
      100.115,
      99.965,
      3,
      1,
      100.02,
      99.99,
      't0',
      NaN,
      bucketIndex('LDN', 'narrow', 'mid'),
      0.5,
      'narrow',
      1.5,
      0,
    );

  it('a stop raised on this bar exits as trail', () => {
    const p = open();
    const e = exit();
    expect(p.step(100.04, 100.06, 100.03, 100.04, false, rules('sl_first'), e)).toBe(true);
    expect(e.reason).toBe('trail');
    expect(e.price).toBeCloseTo(100.06 - 0.03, 12);
  });

  it('a stop trailed on an earlier bar exits as sl (quirk 3), never a win', () => {
    const p = open();
    const e = exit();
    expect(p.step(100.05, 100.06, 100.04, 100.05, false, rules('sl_first'), e)).toBe(false);
    expect(p.slPx).toBeCloseTo(100.03, 12);
    expect(p.step(100.04, 100.05, 100.02, 100.03, false, rules('sl_first'), e)).toBe(true);
    expect(e.reason).toBe('sl');
  });

  it('leaves at the open of a new session, or after max_hold_bars bars', () => {
    const e = exit();
    const p = open();
    expect(p.step(100.02, 100.025, 100.0, 100.02, true, rules('sl_first'), e)).toBe(true);
    expect(e).toEqual({ price: 100.02, reason: 'session_end', prob: NaN });
    const q = open();
    expect(q.step(100.02, 100.025, 100.0, 100.02, false, rules('sl_first', 2), e)).toBe(false);
    expect(q.step(100.021, 100.025, 100.0, 100.02, false, rules('sl_first', 2), e)).toBe(true);
    expect(e).toEqual({ price: 100.021, reason: 'timeout', prob: NaN });
  });
});

describe('EV estimators (5.4)', () => {
  it('the Wilson lower bound of (a, b) at 95% uses z = 1.6448536269514722', () => {
    const a = 3;
    const b = 2;
    const n = 5;
    const z = 1.6448536269514722;
    const p = a / n;
    const want =
      (p + (z * z) / (2 * n) - z * Math.sqrt((p * (1 - p) + (z * z) / (4 * n)) / n)) / (1 + (z * z) / n);
    expect(wilsonLower(a, b, 0.95)).toBe(want);
    expect(wilsonLower(0, 0, 0.95)).toBe(0);
  });

  it('pools a bucket with 0.2 of its RV neighbours and 0.3 of the global estimator; updates decay by δ', () => {
    const ev = new EvEstimators(0.02, 0.95, 0, 0);
    const mid = bucketIndex('LDN', 'narrow', 'mid');
    expect(BUCKET_KEYS[mid]).toBe('LDN:narrow:mid');
    ev.update(mid, 1);
    expect(ev.bucket(mid)).toEqual({ alpha: 0.98 * 1 + 1, beta: 0.98 * 1 + 0 });
    expect(ev.global).toEqual({ alpha: 1.98, beta: 0.98 });
    const own = ev.bucket(mid);
    const a = own.alpha + 0.2 * 1 + 0.2 * 1 + 0.3 * 1.98;
    const b = own.beta + 0.2 * 1 + 0.2 * 1 + 0.3 * 0.98;
    expect(ev.pooledLcb(mid)).toBe(wilsonLower(a, b, 0.95));
    expect([...ev.buckets.keys()].sort()).toEqual(['LDN:narrow:high', 'LDN:narrow:low', 'LDN:narrow:mid']);
  });
});

describe('the config fingerprint (9)', () => {
  it('is 41b2fd40836c5132 for the sample manifest, as the source computes it', () => {
    expect(configFingerprint(sampleSettings())).toBe('41b2fd40836c5132');
  });
  it('prints floats as Python does', () => {
    expect([-10, 0.95, 6, 1e-5, 1e16, 0.0001, 123.5].map(pyFloat)).toEqual([
      '-10.0',
      '0.95',
      '6.0',
      '1e-05',
      '1e+16',
      '0.0001',
      '123.5',
    ]);
  });
  it('changes with a setting the estimators depend on', () => {
    expect(configFingerprint(sampleSettings('conservative', { or_n: 4 }))).not.toBe('41b2fd40836c5132');
  });
});
