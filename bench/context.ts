// `npm run bench -- context [--commits N] [--repeat R]`: file localisation on this repository's own
// history, and what scanning and ranking cost.
//
// Quality: the newest N (default 300) non-merge commits that change 1 to 5 source files. For each,
// the query is the commit message's first paragraph, the project is the tree of its parent commit
// (read from git, kept up to date commit by commit), git's signals stop at the parent, and the gold
// is the source files the commit changed that existed in the parent (a file it only adds cannot be
// found). A hit at k: a gold file among the first k. Source files (TypeScript, JavaScript, Python)
// are the candidates; every file of the tree feeds the signals. Reported for the combined ranking,
// BM25 alone, and the graph signal alone (personalized PageRank from the same seeds).
//
// Costs, on the working tree: the first scan, a rescan after one file changed, and one ranking.
import { execFileSync } from 'node:child_process';
import { utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import {
  GitHistory,
  ProjectIndex,
  extractFacts,
  isSource,
  looksBinary,
  rankFiles,
  readGitLog,
  scanProject,
  type Commit,
  type RankOptions,
} from '@baton/ai';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantCommits = intArg('commits', 300);
const repeat = intArg('repeat', 5);
const log = (msg: string) => console.error(`[context] ${msg}`);
const load = watchLoad(log);

const git = (args: string[], input?: string): Buffer =>
  execFileSync('git', ['-C', root, ...args], {
    maxBuffer: 1 << 30,
    input,
    stdio: ['pipe', 'pipe', 'ignore'],
  });

interface Change {
  sha: string;
  parent: string;
  message: string;
  files: string[];
}

/** Non-merge commits with one parent, newest first, with the files each changed. */
function commits(): Change[] {
  const text = git(['log', '--no-merges', '--format=%x00%H %P%n%B%x01', '--name-only']).toString('utf8');
  const out: Change[] = [];
  for (const chunk of text.split('\0')) {
    const nl = chunk.indexOf('\n');
    if (nl < 0) continue;
    const [sha, parent, extra] = chunk.slice(0, nl).split(' ');
    const [body, names] = chunk.slice(nl + 1).split('\x01');
    if (!sha || !parent || extra) continue;
    const message = body!
      .trim()
      .split(/\n\s*\n/)[0]!
      .replace(/\s+/g, ' ');
    out.push({ sha, parent, message, files: names!.split('\n').filter(Boolean) });
  }
  return out;
}

/** The contents of `paths` at `rev` (one `git cat-file --batch`); binaries left out. */
function readAt(rev: string, paths: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const buf = git(['cat-file', '--batch'], paths.map((p) => `${rev}:${p}\n`).join(''));
  let at = 0;
  for (const path of paths) {
    const eol = buf.indexOf(10, at);
    const header = buf.subarray(at, eol).toString();
    at = eol + 1;
    const m = /^\S+ (\w+) (\d+)$/.exec(header);
    if (!m) continue; // "missing"
    const size = Number(m[2]);
    const body = buf.subarray(at, at + size);
    at += size + 1;
    if (m[1] === 'blob' && size <= 512 * 1024 && !looksBinary(body)) out.set(path, body.toString('utf8'));
  }
  return out;
}

function treeAt(rev: string): string[] {
  return git(['ls-tree', '-r', '-z', '--name-only', rev]).toString('utf8').split('\0').filter(Boolean);
}

const all = commits();
const eligible = all.filter((c) => {
  const n = c.files.filter(isSource).length;
  return n >= 1 && n <= 5;
});
const chosen = eligible.slice(0, wantCommits).reverse(); // oldest first: the index moves forward
log(`${all.length} non-merge commits; ${eligible.length} change 1–5 source files; using ${chosen.length}`);

// All commits, newest first, for git's signals at each parent.
const history: (Commit & { sha: string })[] = git(['log', '--no-merges', '--format=%x00%H', '--name-only'])
  .toString('utf8')
  .split('\0')
  .filter(Boolean)
  .map((chunk) => {
    const [sha, ...files] = chunk.split('\n').filter(Boolean);
    return { sha: sha!, files };
  });
const position = new Map(history.map((c, i) => [c.sha, i]));

type System = 'combined' | 'bm25' | 'graph';
const SYSTEMS: Record<System, Omit<RankOptions, 'top'>> = {
  combined: {},
  bm25: { weights: { lexical: 1, graph: 0, cochange: 0, recency: 0, mentioned: 0 } },
  graph: { weights: { lexical: 0, graph: 1, cochange: 0, recency: 0, mentioned: 0 } },
};
const hits: Record<System, { at1: number; at5: number; at10: number; recall10: number }> = {
  combined: { at1: 0, at5: 0, at10: 0, recall10: 0 },
  bm25: { at1: 0, at5: 0, at10: 0, recall10: 0 },
  graph: { at1: 0, at5: 0, at10: 0, recall10: 0 },
};

const index = new ProjectIndex();
let current: string | undefined;
let evaluated = 0;
let noGold = 0;
const started = Date.now();
for (const c of chosen) {
  // Move the index to the parent's tree.
  if (current === undefined) {
    const paths = treeAt(c.parent);
    for (const [p, text] of readAt(c.parent, paths)) index.put(extractFacts(p, text));
  } else if (current !== c.parent) {
    const diff = git(['diff', '--name-status', '--no-renames', '-z', current, c.parent]).toString('utf8');
    const fields = diff.split('\0').filter(Boolean);
    const changed: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'D') index.remove(fields[i + 1]!);
      else changed.push(fields[i + 1]!);
    }
    const read = readAt(c.parent, changed);
    for (const p of changed) {
      const text = read.get(p);
      if (text === undefined) index.remove(p);
      else index.put(extractFacts(p, text));
    }
  }
  current = c.parent;
  const gold = c.files.filter((f) => isSource(f) && index.get(f));
  if (gold.length === 0) {
    noGold++;
    continue;
  }
  const from = position.get(c.parent);
  const gitAtParent = new GitHistory(from === undefined ? [] : history.slice(from));
  evaluated++;
  for (const system of Object.keys(SYSTEMS) as System[]) {
    const ranked = rankFiles(index, gitAtParent, c.message, {
      ...SYSTEMS[system],
      top: 10,
      candidates: isSource,
    });
    const paths = ranked.map((r) => r.path);
    const firstHit = paths.findIndex((p) => gold.includes(p));
    const h = hits[system];
    if (firstHit === 0) h.at1++;
    if (firstHit >= 0 && firstHit < 5) h.at5++;
    if (firstHit >= 0) h.at10++;
    h.recall10 += gold.filter((g) => paths.includes(g)).length / gold.length;
  }
}
log(`evaluated ${evaluated} commits (${noGold} only added source files) in ${Date.now() - started} ms`);
const rate = (n: number) => Math.round((n / Math.max(1, evaluated)) * 1000) / 1000;
for (const system of Object.keys(SYSTEMS) as System[]) {
  const h = hits[system];
  log(
    `${system.padEnd(8)} Acc@1 ${rate(h.at1)}  Acc@5 ${rate(h.at5)}  Acc@10 ${rate(h.at10)}  recall@10 ${rate(h.recall10)}`,
  );
}

// Costs on the working tree: a cold scan, a rescan after one edit, a ranking.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const scans: number[] = [];
const rescans: number[] = [];
const ranks: number[] = [];
const touched = join(root, 'packages/ai/src/context/terms.ts');
const original = readFileSync(touched);
const workingGit = new GitHistory(readGitLog(root));
for (let r = 0; r < repeat; r++) {
  let t = performance.now();
  const first = scanProject(root);
  scans.push(performance.now() - t);
  // One edit: the same bytes with a new mtime, and the next scan reads that file again.
  writeFileSync(touched, original);
  utimesSync(touched, new Date(), new Date(Date.now() + 1000 * (r + 1)));
  t = performance.now();
  const again = scanProject(root, { previous: first.entries });
  rescans.push(performance.now() - t);
  if (again.changed.length !== 1) throw new Error(`the rescan read ${again.changed.length} files, not 1`);
  for (const c of chosen.slice(-20)) {
    t = performance.now();
    rankFiles(again.index, workingGit, c.message, { top: 10 });
    ranks.push(performance.now() - t);
  }
}
const scanMs = Math.round(median(scans));
const rescanMs = Math.round(median(rescans) * 10) / 10;
const rankMs = Math.round(median(ranks) * 100) / 100;
log(
  `scan ${scanMs} ms (files: ${scanProject(root).index.size}), rescan after one edit ${rescanMs} ms, rank ${rankMs} ms (medians of ${repeat})`,
);
const loadRecord = load.end();
// The keys on the last line; the rest before it.
console.error(
  JSON.stringify({
    recall_at_10: rate(hits.combined.recall10),
    bm25_acc_at_1: rate(hits.bm25.at1),
    bm25_acc_at_10: rate(hits.bm25.at10),
    graph_acc_at_5: rate(hits.graph.at5),
    only_added: noGold,
    ...loadRecord,
  }),
);
console.log(
  JSON.stringify({
    suite: 'context',
    commits: evaluated,
    acc_at_1: rate(hits.combined.at1),
    acc_at_5: rate(hits.combined.at5),
    acc_at_10: rate(hits.combined.at10),
    bm25_acc_at_5: rate(hits.bm25.at5),
    scan_ms: scanMs,
    rescan_ms: rescanMs,
    rank_ms: rankMs,
  }),
);
