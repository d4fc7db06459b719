// `baton context`: the project context `baton chat` assembles, on its own. `scan` indexes a project
// (incrementally: only files whose size or mtime changed are read again; the index lives in the
// store); `rank` ranks its files for a query and says why each scored what it did.
import { Command } from 'commander';
import { BatonError } from '@baton/core';
import {
  ContextStore,
  GitHistory,
  assembleContext,
  migrateAi,
  rankFiles,
  readGitLog,
  type RankedFile,
  type ScanResult,
} from '@baton/ai';
import { table } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { directoryOption } from './options.js';

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new BatonError('E_INVALID_OPTION', `${flag} must be a positive integer, got '${value}'`);
  }
  return n;
}

/** Opens the store, makes sure the index's table exists, and scans `root`. */
async function scanned<T>(g: GlobalOptions, root: string, fn: (scan: ScanResult) => Promise<T>): Promise<T> {
  return withStore(
    g,
    async (store) => {
      await store.migrate();
      await migrateAi(store.driver);
      return fn(await new ContextStore(store.driver).scan(root));
    },
    { checkSchema: false },
  );
}

const fixed = (n: number) => n.toFixed(3);

function explainLine(r: RankedFile): string {
  const s = r.signals;
  const parts = [
    `lexical ${fixed(s.lexical)}`,
    `graph ${fixed(s.graph)}`,
    `co-change ${fixed(s.cochange)}`,
    `recency ${fixed(s.recency)}`,
  ];
  if (s.mentioned) parts.push(`named (${s.mentioned})`);
  return `    ${parts.join(', ')}`;
}

export function contextCommand(globals: () => GlobalOptions, io: Io): Command {
  const cmd = new Command('context').description(
    "a project's files ranked for a request: the context `baton chat` assembles",
  );

  cmd
    .command('scan')
    .description('index the project (incremental; .gitignore respected) and report what was read and skipped')
    .option('--root <dir>', 'the project directory', '.')
    .option('--json', 'print JSON')
    .action(async (o: { root: string; json?: boolean }) => {
      const root = directoryOption(o.root);
      await scanned(globals(), root, async (scan) => {
        const report = {
          root,
          files: scan.index.size,
          read: scan.changed.length,
          removed: scan.removed.length,
          skipped: scan.skipped,
        };
        if (o.json) return io.out(JSON.stringify(report, null, 2));
        io.out(
          `${report.files} files indexed in ${root}; ${report.read} read this time, ${report.removed} gone since the last scan`,
        );
        for (const s of scan.skipped) io.out(`  skipped ${s.path}: ${s.reason}`);
      });
    });

  cmd
    .command('rank')
    .description('rank the project files for a query: BM25, the import graph, git co-change and recency')
    .argument('<query>', 'what you want to do, in words (a request, a commit message)')
    .option('--root <dir>', 'the project directory', '.')
    .option('--top <k>', 'how many files', '10')
    .option('--budget <tokens>', 'keep the best files that fit in this many tokens (o200k)')
    .option('--mention <path...>', 'files the session named or edited (they seed the graph and co-change)')
    .option('--explain', "show each file's signals")
    .option('--json', 'print JSON: {"files": [{"path", "score", "signals"}]}, best first')
    .action(
      async (
        query: string,
        o: {
          root: string;
          top: string;
          budget?: string;
          mention?: string[];
          explain?: boolean;
          json?: boolean;
        },
      ) => {
        const root = directoryOption(o.root);
        const top = positiveInt(o.top, '--top');
        const budget = o.budget === undefined ? undefined : positiveInt(o.budget, '--budget');
        if (!query.trim())
          throw new BatonError('E_INPUT_INVALID', 'the query is empty: say what you want to do');
        await scanned(globals(), root, async (scan) => {
          const git = new GitHistory(readGitLog(root));
          const ranked = rankFiles(scan.index, git, query, {
            top,
            ...(o.mention ? { mentioned: o.mention } : {}),
          });
          const assembly = budget === undefined ? undefined : await assembleContext(root, ranked, budget);
          const kept = assembly
            ? ranked.filter((r) => assembly.files.some((f) => f.path === r.path))
            : ranked;
          const tokens = new Map(assembly?.files.map((f) => [f.path, f.tokens]));
          if (o.json) {
            const files = kept.map((r) => ({
              path: r.path,
              score: r.score,
              signals: r.signals,
              ...(tokens.has(r.path) ? { tokens: tokens.get(r.path) } : {}),
            }));
            const out = assembly
              ? { files, budget: { limit: budget, used: assembly.used, left_out: assembly.leftOut } }
              : { files };
            return io.out(JSON.stringify(out, null, 2));
          }
          if (kept.length === 0) {
            io.err(`no file of ${scan.index.size} matches '${query}'; try other words, or name a file`);
            return;
          }
          const rows = kept.map((r, i) => [
            String(i + 1),
            r.path,
            r.score.toFixed(3),
            ...(assembly ? [String(tokens.get(r.path) ?? '')] : []),
          ]);
          const lines = table(['#', 'file', 'score', ...(assembly ? ['tokens'] : [])], rows).split('\n');
          io.out(lines[0]!);
          kept.forEach((r, i) => {
            io.out(lines[i + 1]!);
            if (o.explain) io.out(explainLine(r));
          });
          if (assembly) {
            io.out(`${assembly.used} of ${budget} tokens used`);
            for (const l of assembly.leftOut) io.out(`  left out ${l.path}: ${l.reason}`);
          }
        });
      },
    );

  return cmd;
}
