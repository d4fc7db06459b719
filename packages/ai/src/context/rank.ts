// Ranks a project's files for a query (a request, a commit message) by four signals, each scaled
// to [0, 1] over the files and then weighted:
// - lexical: BM25 over each file's terms (path ×3, declared names ×2, content ×1);
// - graph: personalized PageRank over the import graph from the seeds;
// - co-change: how often a file changed in git together with the seeds;
// - recency: how recently it changed.
// The seeds are the files the query names (a path, a file name, a name only they declare), the
// files the session named or edited, and the best lexical matches (pseudo-relevance feedback).
// Every score comes with its signals, so `baton context rank --explain` can say why.
import { basename } from 'node:path';
import type { GitHistory } from './git-history.js';
import { personalizedPageRank } from './pagerank.js';
import type { ProjectIndex } from './project-index.js';
import { terms } from './terms.js';

export interface RankWeights {
  lexical: number;
  graph: number;
  cochange: number;
  recency: number;
  /** Added to a file the query or the session names. */
  mentioned: number;
}

/** Set on this repository's history (docs/context.md): recency carries most beside BM25. */
export const DEFAULT_WEIGHTS: Readonly<RankWeights> = {
  lexical: 0.6,
  graph: 0.1,
  cochange: 0.1,
  recency: 0.2,
  mentioned: 0.3,
};

export interface RankOptions {
  /** How many files to return (default 10). */
  top?: number;
  /** Files the session named or edited: seeds for the graph and co-change signals. */
  mentioned?: readonly string[];
  weights?: Partial<RankWeights>;
  /** How many of the best lexical matches also seed the graph (default 5). */
  feedback?: number;
  /** Only files this accepts are ranked (every file still counts for the signals). */
  candidates?: (path: string) => boolean;
}

export interface FileSignals {
  /** Each signal scaled to [0, 1] over the project's files. */
  readonly lexical: number;
  readonly graph: number;
  readonly cochange: number;
  readonly recency: number;
  /** Why the file is a seed: `path`, `name <symbol>`, `session`; absent when it is not. */
  readonly mentioned?: string;
}

export interface RankedFile {
  readonly path: string;
  readonly score: number;
  readonly signals: FileSignals;
}

const K1 = 1.2;
const B = 0.75;

export function rankFiles(
  index: ProjectIndex,
  git: GitHistory,
  query: string,
  options: RankOptions = {},
): RankedFile[] {
  const w = { ...DEFAULT_WEIGHTS, ...options.weights };
  const lexical = scaled(bm25(index, query));
  const mentions = mentionsIn(index, query, options.mentioned ?? []);

  const seeds = new Map<string, number>();
  for (const path of mentions.keys()) seeds.set(path, 1);
  const best = [...lexical].sort((a, b) => b[1] - a[1]).slice(0, options.feedback ?? 5);
  for (const [path, s] of best) seeds.set(path, (seeds.get(path) ?? 0) + 0.5 * s);

  const graph =
    w.graph > 0 ? scaled(personalizedPageRank(index.neighbours(), index.paths(), seeds)) : new Map();
  const cochange = w.cochange > 0 ? scaled(git.coChange(seeds)) : new Map<string, number>();

  const ranked: RankedFile[] = [];
  for (const path of index.paths()) {
    if (options.candidates && !options.candidates(path)) continue;
    const signals: FileSignals = {
      lexical: lexical.get(path) ?? 0,
      graph: graph.get(path) ?? 0,
      cochange: cochange.get(path) ?? 0,
      recency: w.recency > 0 ? git.recency(path) : 0,
      ...(mentions.has(path) ? { mentioned: mentions.get(path)! } : {}),
    };
    const score =
      w.lexical * signals.lexical +
      w.graph * signals.graph +
      w.cochange * signals.cochange +
      w.recency * signals.recency +
      (signals.mentioned ? w.mentioned : 0);
    if (score > 0) ranked.push({ path, score: Math.round(score * 1e6) / 1e6, signals });
  }
  ranked.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : 1));
  return ranked.slice(0, options.top ?? 10);
}

/** BM25 of every file that has a query term. */
function bm25(index: ProjectIndex, query: string): Map<string, number> {
  const wanted = new Map<string, number>();
  for (const t of terms(query)) wanted.set(t, (wanted.get(t) ?? 0) + 1);
  const df = index.documentFrequency();
  const n = index.size;
  const avg = index.meanLength() || 1;
  const idf = new Map<string, number>();
  for (const t of wanted.keys()) {
    const d = df.get(t) ?? 0;
    if (d > 0) idf.set(t, Math.log(1 + (n - d + 0.5) / (d + 0.5)));
  }
  const scores = new Map<string, number>();
  if (idf.size === 0) return scores;
  for (const f of index.files()) {
    let s = 0;
    const norm = K1 * (1 - B + (B * f.length) / avg);
    for (const [t, weight] of idf) {
      const tf = f.terms[t];
      if (tf !== undefined) s += weight * wanted.get(t)! * ((tf * (K1 + 1)) / (tf + norm));
    }
    if (s > 0) scores.set(f.path, s);
  }
  return scores;
}

/**
 * Files the query names: by path (`packages/ai/src/budget.ts`), by file name (`budget.ts`), or by a
 * name only a few files declare (`sdkArgs`, `BudgetGuard`); and the session's own.
 */
function mentionsIn(index: ProjectIndex, query: string, session: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of session) if (index.get(p)) out.set(p, 'session');
  const words = new Set(query.match(/[A-Za-z0-9_./-]+/g) ?? []);
  const names = new Map<string, string[]>();
  for (const p of index.paths()) {
    const name = basename(p);
    const list = names.get(name);
    if (list) list.push(p);
    else names.set(name, [p]);
  }
  for (const raw of words) {
    const word = raw.replace(/^[./]+|[.,:;)]+$/g, '');
    if (index.get(word)) out.set(word, 'path');
    else if (word.includes('.') && (names.get(word)?.length ?? 0) <= 3) {
      for (const p of names.get(word) ?? []) if (!out.has(p)) out.set(p, 'path');
    }
    // A name, not a word: camelCase, PascalCase or snake_case, declared by at most three files.
    if (/^[A-Za-z_]\w*$/.test(word) && /[a-z][A-Z]|_|^[A-Z][a-z]+[A-Z]/.test(word)) {
      const declaring = index.declaring(word);
      if (declaring.length > 0 && declaring.length <= 3) {
        for (const p of declaring) if (!out.has(p)) out.set(p, `name ${word}`);
      }
    }
  }
  return out;
}

/** Each value divided by the largest (so the best file has 1). */
function scaled(scores: ReadonlyMap<string, number>): Map<string, number> {
  let max = 0;
  for (const v of scores.values()) if (v > max) max = v;
  const out = new Map<string, number>();
  if (max <= 0) return out;
  for (const [k, v] of scores) out.set(k, v / max);
  return out;
}
