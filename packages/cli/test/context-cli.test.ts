// `baton context scan|rank` on the real binary, against a small project: the ranking as JSON with its
// signals, the explanation, a token budget, the incremental scan kept in the store, and bad input.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baton } from './run-baton.js';

const work = mkdtempSync(join(tmpdir(), 'baton-context-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const root = join(work, 'project');
const files: Record<string, string | Buffer> = {
  '.gitignore': 'build/\n',
  'src/budget.ts': 'export class BudgetGuard {\n  check(spent: number): boolean { return spent < 10; }\n}\n',
  'src/usage.ts':
    "import { BudgetGuard } from './budget.js';\nexport function spentToday(): number { return 0; }\n",
  'src/report.ts': "import { spentToday } from './usage.js';\nexport const report = () => spentToday();\n",
  'src/cron.ts': 'export function parseCron(text: string): string { return text; }\n',
  'build/out.js': 'ignored',
  'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]),
};
for (const [path, text] of Object.entries(files)) {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}
const ctx = (...args: string[]) => baton(['--data-dir', join(work, 'db'), 'context', ...args]);

describe('baton context', () => {
  it('rank --json: files best first, each with its score and signals', async () => {
    const r = await ctx('rank', 'the BudgetGuard check is wrong', '--root', root, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      files: { path: string; score: number; signals: Record<string, unknown> }[];
    };
    expect(out.files[0]).toMatchObject({
      path: 'src/budget.ts',
      signals: { mentioned: 'name BudgetGuard', lexical: 1 },
    });
    const scores = out.files.map((f) => f.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(out.files.map((f) => f.path)).not.toContain('src/cron.ts');
    expect(out.files.map((f) => f.path)).not.toContain('build/out.js');
  });

  it('rank --explain says why; --budget keeps what fits and says what it left out', async () => {
    const r = await ctx('rank', 'budget usage', '--root', root, '--explain', '--top', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^#\s+file\s+score\n1\s+src\/(budget|usage)\.ts/);
    expect(r.stdout).toMatch(
      / {4}lexical \d\.\d{3}, graph \d\.\d{3}, co-change \d\.\d{3}, recency \d\.\d{3}/,
    );
    const b = await ctx('rank', 'budget usage report', '--root', root, '--budget', '40', '--json');
    expect(b.code, b.stderr).toBe(0);
    const out = JSON.parse(b.stdout) as {
      files: { path: string; tokens: number }[];
      budget: { limit: number; used: number; left_out: { path: string; reason: string }[] };
    };
    expect(out.budget.limit).toBe(40);
    expect(out.budget.used).toBe(out.files.reduce((n, f) => n + f.tokens, 0));
    expect(out.budget.used).toBeLessThanOrEqual(40);
    expect(out.files.length).toBeGreaterThan(0);
    expect(out.budget.left_out.length).toBeGreaterThan(0);
    expect(out.budget.left_out[0]!.reason).toMatch(/does not fit/);
  });

  it('scan reads only what changed since the last scan, and reports what it skipped', async () => {
    const first = await ctx('scan', '--root', root, '--json');
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { files: number; read: number; skipped: unknown[] };
    expect(a.files).toBe(5); // .gitignore and the four sources; build/ ignored, the PNG skipped
    expect(a.read).toBe(0); // the rank calls above scanned it already
    expect(a.skipped).toEqual([{ path: 'logo.png', reason: 'binary' }]);
    writeFileSync(join(root, 'src/cron.ts'), 'export function nextFire() {}\n');
    utimesSync(join(root, 'src/cron.ts'), new Date(), new Date(Date.now() + 5000));
    const second = JSON.parse((await ctx('scan', '--root', root, '--json')).stdout) as { read: number };
    expect(second.read).toBe(1);
  });

  it('refuses bad input with what to do', async () => {
    const noRoot = await ctx('rank', 'x', '--root', join(work, 'nope'));
    expect(noRoot.code).toBe(1);
    expect(noRoot.stderr).toMatch(/--root .*nope: no such directory/);
    const top = await ctx('rank', 'x', '--root', root, '--top', '0');
    expect(top.code).toBe(1);
    expect(top.stderr).toMatch(/--top must be a positive integer, got '0'/);
    const empty = await ctx('rank', '  ', '--root', root);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/the query is empty/);
    const none = await ctx('rank', 'zzzz qqqq', '--root', root);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no file of 5 matches 'zzzz qqqq'/);
  });
});
