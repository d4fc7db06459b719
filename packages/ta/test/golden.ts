// Loads the TA-Lib golden files written by scripts/gen-golden.ts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GoldenCase {
  id: string;
  params: Record<string, number>;
  talib: string;
  talibParams: Record<string, number>;
  outputs: Record<string, (number | null)[]>;
}
export interface GoldenFile {
  talibVersion: string;
  source: string;
  input: { open: number[]; high: number[]; low: number[]; close: number[]; volume: number[] };
  cases: GoldenCase[];
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'golden');

export function loadGolden(name: 'ref252' | 'walk10k'): GoldenFile {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as GoldenFile;
}

/** Input columns as Float64Arrays, keyed by input name (`series` = close). */
export function columns(g: GoldenFile): Record<string, Float64Array> {
  const c = (a: number[]): Float64Array => Float64Array.from(a);
  return {
    open: c(g.input.open),
    high: c(g.input.high),
    low: c(g.input.low),
    close: c(g.input.close),
    volume: c(g.input.volume),
    series: c(g.input.close),
  };
}
