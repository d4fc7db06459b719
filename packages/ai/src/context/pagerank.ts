// Personalized PageRank over the import graph: a walk that restarts at the seed files (named in the
// query or the session, with their weights) and follows imports either way. A file near the seeds,
// or imported by many files near them, scores high; with no seeds there is nothing to personalise.

const DAMPING = 0.85;
const ITERATIONS = 30;
const TOLERANCE = 1e-9;

/**
 * Scores of every node of `graph` for a walk restarting at `seeds` (weights need not sum to 1).
 * Returns an empty map when no seed is in the graph's node set.
 */
export function personalizedPageRank(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  nodes: Iterable<string>,
  seeds: ReadonlyMap<string, number>,
): Map<string, number> {
  const ids = [...nodes];
  const at = new Map(ids.map((p, i) => [p, i]));
  const restart = new Float64Array(ids.length);
  let seedTotal = 0;
  for (const [p, w] of seeds) {
    const i = at.get(p);
    if (i === undefined || !(w > 0)) continue;
    restart[i]! += w;
    seedTotal += w;
  }
  if (seedTotal === 0) return new Map();
  for (let i = 0; i < restart.length; i++) restart[i]! /= seedTotal;
  const out: number[][] = ids.map((p) =>
    [...(graph.get(p) ?? [])].map((q) => at.get(q)).filter((q) => q !== undefined),
  );
  let rank = Float64Array.from(restart);
  let next = new Float64Array(ids.length);
  for (let it = 0; it < ITERATIONS; it++) {
    next.fill(0);
    let dangling = 0;
    for (let i = 0; i < ids.length; i++) {
      const edges = out[i]!;
      if (edges.length === 0) {
        dangling += rank[i]!;
        continue;
      }
      const share = (DAMPING * rank[i]!) / edges.length;
      for (const j of edges) next[j]! += share;
    }
    // Walks that stop (no edges) and the restarts go back to the seeds.
    let delta = 0;
    for (let i = 0; i < ids.length; i++) {
      next[i]! += (1 - DAMPING + DAMPING * dangling) * restart[i]!;
      delta += Math.abs(next[i]! - rank[i]!);
    }
    [rank, next] = [next, rank];
    if (delta < TOLERANCE) break;
  }
  const scores = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) if (rank[i]! > 0) scores.set(ids[i]!, rank[i]!);
  return scores;
}
