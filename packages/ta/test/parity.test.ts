// Parity with TA-Lib 0.6 (through the talib binding) on TA-Lib's 252-bar reference series and a 10,000-bar random walk.
import { describe, expect, it } from 'vitest';
import { getIndicator } from '../src/index.js';
import { columns, loadGolden } from './golden.js';

/** Relative error with a unit floor, so values near zero are compared absolutely. */
const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

const worst: Record<string, number> = {};

for (const name of ['ref252', 'walk10k'] as const) {
  const g = loadGolden(name);
  const cols = columns(g);
  describe(`TA-Lib parity on ${name}`, () => {
    for (const k of g.cases) {
      it(`${k.id}(${JSON.stringify(k.params)}) = TA-Lib ${k.talib}`, () => {
        const ind = getIndicator(k.id)!;
        expect(ind).toBeDefined();
        const outs = ind.compute(
          ind.inputs.map((i) => cols[i]),
          k.params,
        );
        for (const [out, expected] of Object.entries(k.outputs)) {
          const got = outs[ind.outputs.indexOf(out)];
          expect(got.length).toBe(expected.length);
          let max = 0;
          for (let i = 0; i < expected.length; i++) {
            const e = expected[i];
            if (e === null) {
              if (!Number.isNaN(got[i]))
                throw new Error(`${k.id}.${out}[${i}] = ${got[i]}, TA-Lib has no value there`);
              continue;
            }
            const err = relErr(got[i], e);
            if (!(err <= 1e-9))
              throw new Error(`${k.id}.${out}[${i}] = ${got[i]}, TA-Lib ${e} (rel err ${err})`);
            if (err > max) max = err;
          }
          const key = `${k.talib}.${out}`;
          worst[key] = Math.max(worst[key] ?? 0, max);
        }
      });
    }
  });
}

describe('parity summary', () => {
  it('prints the worst relative error per TA-Lib function', () => {
    const lines = Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
    console.log(`max relative error vs TA-Lib:\n  ${lines.join('\n  ')}`);
    expect(Object.keys(worst).length).toBeGreaterThan(20);
  });
});
