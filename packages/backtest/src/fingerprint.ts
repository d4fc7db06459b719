// The source's config fingerprint (spec section 9): SHA-256 of Python's json.dumps(sort_keys=True)
// of six settings, whose floats print as Python prints them (-10.0, 1e-05).
import { createHash } from 'node:crypto';
import type { RunSettings } from './config.js';

/** Python's repr of a float: shortest round-trip digits, `.0` on whole numbers, exponent outside 1e-4..1e16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** First 16 hex characters of the fingerprint of the settings the state's estimators depend on. */
export function configFingerprint(s: RunSettings): string {
  const r = s.runner;
  const text =
    `{"conf": ${pyFloat(r.ev_conf)}, "decay": ${pyFloat(r.ev_decay)}, ` +
    `"min_or_atr_ratio": ${pyFloat(r.min_or_atr_ratio)}, ` +
    `"or_n": ${String(Math.trunc(s.strategy.or_n))}, ` +
    `"rv_band_cuts": [${r.rv_band_cuts.map(pyFloat).join(', ')}], ` +
    `"symbol": ${JSON.stringify(s.symbol)}, "threshold_lcb_pip": ${pyFloat(r.threshold_lcb_pip)}}`;
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}
