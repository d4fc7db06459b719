// Terms for lexical ranking: identifiers and words, split at camelCase, snake_case and digits,
// lower-cased and lightly stemmed, so that a commit message's "budgets" finds `BudgetGuard` and
// "durable steps" finds `durable.ts` and `stepName`. The same function reads queries and files.

/** Words too common in prose and code to tell files apart. */
const STOP = new Set(
  (
    'a an and are as at be but by can do does for from has have if in into is it its not of on or ' +
    'so than that the their them then there these they this to was were when which while will with ' +
    'without no one two all any each more most new now only our out own same some such too use used ' +
    'uses via we what who why how also after before instead per its it s t ' +
    'const let var function return import export default class interface type extends implements ' +
    'async await new this null undefined true false void string number boolean unknown any ' +
    'def self none elif pass lambda yield'
  ).split(/\s+/),
);

/** A light suffix stemmer: plural and verb endings, enough to meet a word's other forms. */
export function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed') && !word.endsWith('eed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('es') && /(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) {
    return word.slice(0, -1);
  }
  return word;
}

/** The parts of an identifier: `parseHTTPRequest2` → parse, http, request. */
function parts(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z]+/)
    .filter(Boolean);
}

/**
 * The terms of `text`, in order, repeats kept: each identifier's parts, and the whole identifier
 * too when it has several parts (so an exact name scores above its words).
 */
export function terms(text: string, out: string[] = []): string[] {
  for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    const id = m[0];
    const ps = parts(id);
    for (const p of ps) {
      const w = p.toLowerCase();
      if (w.length < 2 || STOP.has(w)) continue;
      out.push(stem(w));
    }
    if (ps.length > 1) out.push(id.toLowerCase().replace(/_/g, ''));
  }
  return out;
}

/** Term counts of `text`. */
export function termCounts(text: string, weight = 1, into = new Map<string, number>()): Map<string, number> {
  for (const t of terms(text)) into.set(t, (into.get(t) ?? 0) + weight);
  return into;
}
