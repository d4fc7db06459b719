// Project context: terms, what a file tells (TypeScript, Python, package.json), the import graph,
// personalized PageRank, git's signals, the ranking and its explanation, the incremental scan of a
// real directory, the index kept in the store, and assembly within a token budget.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContextStore,
  GitHistory,
  ProjectIndex,
  assembleContext,
  extractFacts,
  parseGitLog,
  personalizedPageRank,
  rankFiles,
  repoMap,
  scanProject,
  stem,
  terms,
} from '../src/index.js';
import { sharedStore } from './shared-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory holding `files` (path → text). */
function project(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'baton-context-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function indexOf(files: Record<string, string>): ProjectIndex {
  const index = new ProjectIndex();
  for (const [p, text] of Object.entries(files)) index.put(extractFacts(p, text));
  return index;
}

describe('terms', () => {
  it('splits identifiers, keeps a many-part name whole, drops stop words and stems plurals', () => {
    expect(terms('parseHTTPRequest')).toEqual(['parse', 'http', 'request', 'parsehttprequest']);
    expect(terms('retry_max_delay')).toEqual(['retry', 'max', 'delay', 'retrymaxdelay']);
    expect(terms('the budgets of this worker')).toEqual(['budget', 'worker']);
    expect(stem('queries')).toBe('query');
    expect(stem('running')).toBe('runn');
    expect(stem('class')).toBe('class');
  });
});

describe('what a file tells', () => {
  it('reads TypeScript declarations, class members and imports with the compiler', () => {
    const f = extractFacts(
      'src/worker.ts',
      `import { Store } from './store.js';
export { Claimer } from './claimer.js';
import type { Logger } from '@baton/core';
export interface WorkerOptions { concurrency?: number }
export type Mode = 'a' | 'b';
export class Worker { serve() {} private stopNow = 1 }
export const DEFAULT_LEASE = 30;
function helper() {}
enum Phase { New }
`,
    );
    expect(f.lang).toBe('typescript');
    expect(f.imports).toEqual(['./store.js', './claimer.js', '@baton/core']);
    expect(f.symbols).toEqual([
      'WorkerOptions',
      'Mode',
      'Worker',
      'serve',
      'stopNow',
      'DEFAULT_LEASE',
      'helper',
      'Phase',
    ]);
    // path terms weigh 3, symbols 2, content 1: `worker` is in all three
    expect(f.terms.worker).toBeGreaterThanOrEqual(3 + 2 + 1);
  });

  it('reads Python defs, classes and imports line by line, and a package.json its name', () => {
    const py = extractFacts(
      'app/models.py',
      'import os, sys\nfrom .base import Model\nclass User(Model):\n    def save(self):\n        pass\nasync def load():\n    pass\n',
    );
    expect(py.lang).toBe('python');
    expect(py.imports).toEqual(['os', 'sys', '.base']);
    expect(py.symbols).toEqual(['User', 'save', 'load']);
    expect(extractFacts('packages/core/package.json', '{"name":"@baton/core"}').packageName).toBe(
      '@baton/core',
    );
    expect(extractFacts('package.json', '{ not json').packageName).toBeUndefined();
  });
});

describe('the import graph', () => {
  it('resolves .js to .ts, directory indexes, workspace packages and Python modules', () => {
    const index = indexOf({
      'packages/core/package.json': '{"name":"@baton/core"}',
      'packages/core/src/index.ts': "export * from './store.js';",
      'packages/core/src/store.ts': 'export class Store {}',
      'packages/cli/src/main.ts': "import { Store } from '@baton/core';\nimport { x } from './util';",
      'packages/cli/src/util/index.ts': 'export const x = 1;',
      'app/__init__.py': '',
      'app/models.py': 'from .base import Model\nimport app.util',
      'app/base.py': 'class Model: pass',
      'app/util.py': 'def f(): pass',
    });
    expect(index.importsOf('packages/core/src/index.ts')).toEqual(['packages/core/src/store.ts']);
    expect(index.importsOf('packages/cli/src/main.ts')).toEqual([
      'packages/core/src/index.ts',
      'packages/cli/src/util/index.ts',
    ]);
    expect(index.importsOf('app/models.py')).toEqual(['app/base.py', 'app/util.py']);
    // both directions
    expect([...index.neighbours().get('packages/core/src/store.ts')!]).toEqual([
      'packages/core/src/index.ts',
    ]);
    expect(index.declaring('Store')).toEqual(['packages/core/src/store.ts']);
  });

  it('PageRank restarts at the seeds and spreads along edges; no seed, no scores', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a', 'c'])],
      ['c', new Set(['b'])],
      ['d', new Set<string>()],
    ]);
    const r = personalizedPageRank(graph, ['a', 'b', 'c', 'd'], new Map([['a', 1]]));
    const total = [...r.values()].reduce((x, y) => x + y, 0);
    expect(total).toBeCloseTo(1, 6);
    expect(r.get('a')!).toBeGreaterThan(r.get('c')!);
    expect(r.get('b')!).toBeGreaterThan(r.get('c')!);
    expect(r.has('d')).toBe(false);
    expect(personalizedPageRank(graph, ['a', 'b'], new Map([['zz', 1]])).size).toBe(0);
  });
});

describe("git's signals", () => {
  const history = new GitHistory(
    parseGitLog('\0\nsrc/a.ts\nsrc/b.ts\n\0\nsrc/a.ts\nsrc/c.ts\n\0\nsrc/a.ts\nsrc/b.ts\ndocs/x.md\n'),
  );

  it('recency halves every twenty commits back', () => {
    expect(history.recency('src/b.ts')).toBe(1);
    expect(history.recency('src/c.ts')).toBeCloseTo(0.5 ** (1 / 20), 6);
    const long = new GitHistory([
      { files: ['new.ts'] },
      ...Array(20).fill({ files: ['x.ts'] }),
      { files: ['old.ts'] },
    ]);
    expect(long.recency('old.ts')).toBeCloseTo(0.5 ** (21 / 20), 6);
    expect(history.recency('nowhere.ts')).toBe(0);
  });

  it('co-change counts the commits a file shares with the seeds, by their size', () => {
    const co = history.coChange(new Map([['src/a.ts', 1]]));
    expect(co.get('src/b.ts')).toBeCloseTo(1 / 2 + 1 / 3, 6);
    expect(co.get('src/c.ts')).toBeCloseTo(1 / 2, 6);
    expect(co.has('src/a.ts')).toBe(false);
  });
});

describe('ranking', () => {
  const files = {
    'src/budget.ts': 'export class BudgetGuard { check(spent: number) { return spent } }',
    'src/usage.ts': "import { BudgetGuard } from './budget.js';\nexport function spentToday() { return 0 }",
    'src/report.ts': "import { spentToday } from './usage.js';\nexport function report() {}",
    'src/unrelated.ts': 'export function parseCron(text: string) { return text }',
    'README.md': 'Budgets, spending and usage reports.',
  };

  it('ranks by words, lifts a file whose name the query uses, and explains each score', () => {
    const ranked = rankFiles(indexOf(files), GitHistory.empty, 'the BudgetGuard check is wrong');
    expect(ranked[0]!.path).toBe('src/budget.ts');
    expect(ranked[0]!.signals.mentioned).toBe('name BudgetGuard');
    for (const r of ranked) {
      for (const v of [r.signals.lexical, r.signals.graph, r.signals.cochange, r.signals.recency]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    expect(ranked.map((r) => r.path)).not.toContain('src/unrelated.ts');
  });

  it('follows imports from the seeds: a file with no query word can rank through the graph', () => {
    const ranked = rankFiles(indexOf(files), GitHistory.empty, 'budget guard', { top: 10 });
    const report = ranked.find((r) => r.path === 'src/report.ts');
    expect(report?.signals.lexical ?? 0).toBe(0);
    expect(report?.signals.graph).toBeGreaterThan(0);
    // BM25 alone does not find it
    const lexical = rankFiles(indexOf(files), GitHistory.empty, 'budget guard', {
      weights: { lexical: 1, graph: 0, cochange: 0, recency: 0, mentioned: 0 },
    });
    expect(lexical.map((r) => r.path)).not.toContain('src/report.ts');
  });

  it('takes the session’s files as seeds, a path named in the query, and a candidate filter', () => {
    const index = indexOf(files);
    const bySession = rankFiles(index, GitHistory.empty, 'report', { mentioned: ['src/usage.ts'] });
    expect(bySession.find((r) => r.path === 'src/usage.ts')?.signals.mentioned).toBe('session');
    const byPath = rankFiles(index, GitHistory.empty, 'fix src/unrelated.ts please');
    expect(byPath[0]).toMatchObject({ path: 'src/unrelated.ts', signals: { mentioned: 'path' } });
    const sources = rankFiles(index, GitHistory.empty, 'budgets usage reports', {
      candidates: (p) => p.endsWith('.ts'),
    });
    expect(sources.map((r) => r.path)).not.toContain('README.md');
    expect(rankFiles(index, GitHistory.empty, 'zzzz qqqq')).toEqual([]);
  });
});

describe('scanning a directory', () => {
  it('respects .gitignore, skips binaries, big and unreadable files, and rescans only what changed', () => {
    const root = project({
      '.gitignore': 'dist/\n*.log\n',
      'src/a.ts': 'export const a = 1;',
      'src/b.ts': "import { a } from './a.js';",
      'dist/a.js': 'ignored',
      'debug.log': 'ignored',
      'img.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]),
      'big.txt': 'x'.repeat(2048),
    });
    symlinkSync(join(root, 'missing-target'), join(root, 'dangling.ts'));
    const first = scanProject(root, { maxFileBytes: 1024 });
    expect([...first.index.paths()].sort()).toEqual(['.gitignore', 'src/a.ts', 'src/b.ts']);
    expect(first.skipped).toEqual(
      expect.arrayContaining([
        { path: 'img.png', reason: 'binary' },
        { path: 'big.txt', reason: 'over the size cap (2048 bytes > 1024)' },
        { path: 'dangling.ts', reason: 'unreadable: ENOENT' },
      ]),
    );
    expect(first.index.importsOf('src/b.ts')).toEqual(['src/a.ts']);

    writeFileSync(join(root, 'src/a.ts'), 'export const a = 2; export function added() {}');
    utimesSync(join(root, 'src/a.ts'), new Date(), new Date(Date.now() + 5000));
    rmSync(join(root, 'src/b.ts'));
    const second = scanProject(root, { maxFileBytes: 1024, previous: first.entries });
    expect(second.changed).toEqual(['src/a.ts']);
    expect(second.removed).toEqual(['src/b.ts']);
    expect(second.index.get('src/a.ts')!.symbols).toEqual(['a', 'added']);
  });
});

describe('scanning a directory inside a git work tree', () => {
  it("applies the .gitignore files above it, up to the work tree's top", () => {
    const top = project({
      '.gitignore': 'dist/\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'pkg/src/a.ts': 'export const a = 1;',
      'pkg/dist/a.js': 'built',
    });
    const scan = scanProject(join(top, 'pkg'));
    expect([...scan.index.paths()]).toEqual(['src/a.ts']);
  });
});

describe('this repository', () => {
  it('scans it, ranks in it, and rescans only a file added since', () => {
    const repo = join(import.meta.dirname, '../../..');
    const first = scanProject(repo);
    expect(first.index.size).toBeGreaterThan(300);
    expect(first.index.get('packages/ai/src/context/scan.ts')?.symbols).toContain('scanProject');
    expect([...first.index.paths()].some((p) => p.includes('node_modules/') || p.includes('/dist/'))).toBe(
      false,
    );
    const ranked = rankFiles(first.index, GitHistory.empty, 'incremental scanProject of a directory', {
      top: 3,
    });
    expect(ranked[0]!.path).toBe('packages/ai/src/context/scan.ts');

    const probe = join(repo, `packages/ai/test/fixtures/context-probe-${process.pid}.ts`);
    writeFileSync(probe, 'export const probe = 1;\n');
    try {
      const again = scanProject(repo, { previous: first.entries });
      expect(again.changed).toEqual([`packages/ai/test/fixtures/context-probe-${process.pid}.ts`]);
      expect(again.removed).toEqual([]);
    } finally {
      rmSync(probe);
    }
  });
});

describe('the index in the store', () => {
  const ref = sharedStore();

  it('keeps what a scan read, so the next scan of the same root reads only changes', async () => {
    const root = project({ 'a.ts': 'export const one = 1;', 'b.ts': 'export const two = 2;' });
    const store = new ContextStore(ref.store.driver);
    const first = await store.scan(root);
    expect(first.changed.sort()).toEqual(['a.ts', 'b.ts']);
    const again = await store.scan(root);
    expect(again.changed).toEqual([]);
    expect(again.index.get('a.ts')!.symbols).toEqual(['one']);
    writeFileSync(join(root, 'b.ts'), 'export const three = 3;');
    utimesSync(join(root, 'b.ts'), new Date(), new Date(Date.now() + 5000));
    rmSync(join(root, 'a.ts'));
    const third = await store.scan(root);
    expect(third.changed).toEqual(['b.ts']);
    expect(third.removed).toEqual(['a.ts']);
    expect([...(await store.load(root)).keys()]).toEqual(['b.ts']);
    // another root is another index
    expect((await store.load(`${root}-other`)).size).toBe(0);
  });
});

describe('the repository map sent with a message', () => {
  it('lists the best files with the names they declare, within the budget', async () => {
    const many = Array.from({ length: 15 }, (_, i) => `export const name${i} = ${i};`).join('\n');
    const index = indexOf({
      'src/budget.ts': 'export class BudgetGuard {}',
      'src/names.ts': many,
      'README.md': 'x',
    });
    const ranked = ['src/budget.ts', 'src/names.ts', 'README.md'].map((path) => ({
      path,
      score: 1,
      signals: { lexical: 1, graph: 0, cochange: 0, recency: 0 },
    }));
    const map = await repoMap(index, ranked, 1000);
    expect(map.split('\n')).toEqual([
      'src/budget.ts: BudgetGuard',
      `src/names.ts: ${Array.from({ length: 12 }, (_, i) => `name${i}`).join(', ')}, … (3 more)`,
      'README.md',
    ]);
    expect(await repoMap(index, ranked, 8)).toBe('src/budget.ts: BudgetGuard');
    expect(await repoMap(index, ranked, 2)).toBe('');
  });
});

describe('assembly within a token budget', () => {
  it('keeps the best files that fit, counted with the tokenizer, and says what it left out', async () => {
    const root = project({
      'small.ts': 'export const a = 1;',
      'large.ts': 'word '.repeat(400),
      'tiny.ts': 'x',
    });
    const ranked = ['large.ts', 'small.ts', 'tiny.ts', 'gone.ts'].map((path, i) => ({
      path,
      score: 1 - i / 10,
      signals: { lexical: 1, graph: 0, cochange: 0, recency: 0 },
    }));
    const a = await assembleContext(root, ranked, 60);
    expect(a.files.map((f) => f.path)).toEqual(['small.ts', 'tiny.ts']);
    expect(a.used).toBe(a.files.reduce((n, f) => n + f.tokens, 0));
    expect(a.used).toBeLessThanOrEqual(60);
    expect(a.leftOut[0]).toMatchObject({ path: 'large.ts', reason: expect.stringMatching(/does not fit/) });
    expect(a.leftOut[0]!.tokens).toBeGreaterThan(400);
    expect(a.leftOut[1]).toMatchObject({ path: 'gone.ts', reason: 'unreadable: ENOENT' });
  });
});
