// Streaming forms: update() over a series is bit-identical to batch compute(), peek() never
// changes the state, and snapshot()/restore() through JSON resumes exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStream, listIndicators, streamAll, type Indicator } from '../src/index.js';
import { inputsFor, paramsFor, sameBits } from './arbitraries.js';

const builtins = listIndicators();

function barAt(ins: readonly Float64Array[], i: number): number[] {
  return ins.map((a) => a[i]);
}

describe.each(builtins.map((ind) => [ind.id, ind] as [string, Indicator]))('%s streaming', (_id, ind) => {
  it('update() matches batch compute() bit for bit; peek() leaves state untouched; snapshot/restore resumes', () => {
    fc.assert(
      fc.property(inputsFor(ind), paramsFor(ind), fc.nat(), (ins, params, cut) => {
        const batch = ind.compute(ins, params);
        const streamed = streamAll(ind, ins, params);
        for (let k = 0; k < batch.length; k++) {
          if (!sameBits(batch[k], streamed[k]))
            throw new Error(
              `${ind.id}.${ind.outputs[k]} differs: batch ${Array.from(batch[k])} stream ${Array.from(streamed[k])}`,
            );
        }
        // peek before each update gives the update's value; snapshot at `cut` and resume in a new stream.
        const n = ins[0].length;
        const at = cut % n;
        const s = createStream(ind, params);
        let resumed = createStream(ind, params);
        for (let i = 0; i < n; i++) {
          const bar = barAt(ins, i);
          const peeked = s.peek(bar);
          const again = s.peek(bar);
          const got = s.update(bar);
          ind.outputs.forEach((o, k) => {
            expect(Object.is(peeked[o], got[o]) || (Number.isNaN(peeked[o]) && Number.isNaN(got[o]))).toBe(
              true,
            );
            expect(Object.is(again[o], got[o]) || (Number.isNaN(again[o]) && Number.isNaN(got[o]))).toBe(
              true,
            );
            expect(sameBits([got[o]], [batch[k][i]])).toBe(true);
          });
          if (i === at) {
            const snap = JSON.parse(JSON.stringify(s.snapshot()));
            resumed = createStream(ind, params);
            resumed.restore(snap);
            expect(resumed.bars).toBe(i + 1);
          } else if (i > at) {
            const r = resumed.update(bar);
            ind.outputs.forEach((o, k) => expect(sameBits([r[o]], [batch[k][i]])).toBe(true));
          }
        }
      }),
      { numRuns: 25, seed: 42 },
    );
  });
});

describe('stream API', () => {
  it('accepts numbers, arrays and named bars', () => {
    const a = createStream('atr', { period: 3 });
    const b = createStream('atr', { period: 3 });
    for (let i = 0; i < 6; i++) {
      const bar = { high: 10 + i, low: 8 + i, close: 9 + i };
      expect(sameBits([a.update(bar).value], [b.update([bar.high, bar.low, bar.close]).value])).toBe(true);
    }
    const s = createStream('sma', { period: 2 });
    s.update({ close: 1 });
    expect(s.update(3).value).toBe(2);
  });

  it('rejects a snapshot of another indicator or other parameters', () => {
    const s = createStream('ema', { period: 5 });
    s.update(1);
    expect(() => createStream('sma', { period: 5 }).restore(s.snapshot())).toThrow(
      /E_SNAPSHOT_INVALID|snapshot is of/,
    );
    expect(() => createStream('ema', { period: 6 }).restore(s.snapshot())).toThrow(/parameter "period"/);
  });

  it('snapshots are plain JSON with NaN encoded', () => {
    const s = createStream('rsi', { period: 3 });
    s.update(1);
    const snap = s.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });
});
