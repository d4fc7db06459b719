// The pg driver's timestamptz parser (driver/timestamps.ts) must give the Date pg's own parser
// gives, for every form PostgreSQL writes: checked against pg's parser on generated text, and
// against a real server in several time zones.
import pg from 'pg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PGliteDriver } from '../src/driver/pglite.js';
import { parseTimestamptz } from '../src/driver/timestamps.js';

const pgParse = pg.types.getTypeParser(1184, 'text') as (text: string) => unknown;
const PG_URL = process.env.BATON_PG_URL;

const asTime = (v: unknown) => (v instanceof Date ? v.getTime() : v);

describe('timestamptz parsing', () => {
  it('agrees with pg on the forms PostgreSQL writes, and leaves the others to it', () => {
    for (const text of [
      '2026-12-04 23:07:48.123456+00',
      '2026-12-04 23:07:48+00',
      '2026-12-04 23:07:48.1+05:30',
      '1999-01-08 04:05:06.789-08',
      '2024-02-29 00:00:00.000001+00',
      '0999-01-01 00:00:00+00',
      '0099-12-31 23:59:59.999+00',
      '0001-01-01 00:00:00+00',
      '1883-11-18 12:00:00+00:53:28',
      '2001-01-01 00:00:00+00 BC',
      'infinity',
      '-infinity',
    ])
      expect(asTime(parseTimestamptz(text)), text).toEqual(asTime(pgParse(text)));
  });

  it('agrees with pg on any instant, offset and precision', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0001-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (d, digits, micros, offsetMin) => {
          const local = new Date(d.getTime() + offsetMin * 60_000).toISOString();
          const frac = digits
            ? `.${local.slice(20, 23)}${String(micros).padStart(3, '0')}`.slice(0, digits + 1)
            : '';
          const sign = offsetMin < 0 ? '-' : '+';
          const m = Math.abs(offsetMin);
          const zone = `${sign}${two(Math.floor(m / 60))}${m % 60 ? `:${two(m % 60)}` : ''}`;
          const text = `${local.slice(0, 10)} ${local.slice(11, 19)}${frac}${zone}`;
          expect(asTime(parseTimestamptz(text)), text).toEqual(asTime(pgParse(text)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.skipIf(!PG_URL)(
    'reads what a real server writes, in several time zones, as the same instant',
    async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        for (const zone of [
          'UTC',
          'Asia/Kolkata',
          'America/St_Johns',
          'Europe/Amsterdam',
          'Pacific/Chatham',
        ]) {
          await c.query(`SET TIME ZONE '${zone}'`);
          const { rows } = await c.query<{ t: string; ms: string }>(
            `SELECT t::text AS t, floor(extract(epoch FROM t) * 1000)::bigint::text AS ms
           FROM (VALUES (timestamptz '2026-12-04 23:07:48.123456+00'), (timestamptz '1970-01-01 00:00:00+00'),
                        (timestamptz '2024-03-31 01:30:00.5+00'), (timestamptz '1969-12-31 23:59:59.999987+00'),
                        (now())) v(t)`,
          );
          for (const r of rows)
            expect((parseTimestamptz(r.t) as Date).getTime(), `${zone}: ${r.t}`).toBe(Number(r.ms));
        }
      } finally {
        await c.end();
      }
    },
  );

  it('reads what PGlite writes as the same instant, years before 100 included', async () => {
    const db = await PGliteDriver.open(undefined);
    try {
      const rows = await db.query<{ t: Date; ms: string }>(
        `SELECT t, floor(extract(epoch FROM t) * 1000)::bigint::text AS ms
         FROM (VALUES (timestamptz '0099-12-31 23:59:59.999+00'), (timestamptz '0001-01-01 00:00:00+00'),
                      (timestamptz '2026-12-04 23:07:48.123456+00'), (now())) v(t)`,
      );
      for (const r of rows) expect(r.t.getTime(), r.ms).toBe(Number(r.ms));
    } finally {
      await db.close();
    }
  });
});
