// The files of a tree as git would list them: `.git` skipped, and every `.gitignore` on the way
// applied (patterns, `!` negations, `/`-anchored and directory-only patterns), nested files after
// their parents'. Enough of gitignore(5) for listing a project; not the global excludes file.
import { pathGlob } from '@baton/core';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Pattern {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
  /** Matched against the path relative to the .gitignore's directory (else against the name). */
  anchored: boolean;
  base: string;
}

function readIgnore(dir: string, base: string): Pattern[] {
  let text: string;
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8');
  } catch {
    return [];
  }
  const out: Pattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    try {
      out.push({ regex: pathGlob(line.replace(/\\(.)/g, '$1')), negate, dirOnly, anchored, base });
    } catch {
      // a pattern git would not understand either
    }
  }
  return out;
}

function ignored(patterns: Pattern[], rel: string, name: string, isDir: boolean): boolean {
  let result = false;
  for (const p of patterns) {
    if (p.dirOnly && !isDir) continue;
    const subject = p.anchored ? (p.base ? rel.slice(p.base.length + 1) : rel) : name;
    if (p.regex.test(subject)) result = !p.negate;
  }
  return result;
}

/** Files under `dir` (relative to `root`, `/`-separated), sorted, at most `limit`; `truncated` when more. */
export function listFiles(root: string, dir: string, limit: number): { files: string[]; truncated: boolean } {
  const files: string[] = [];
  let truncated = false;
  const walk = (abs: string, rel: string, inherited: Pattern[]) => {
    const patterns = [...inherited, ...readIgnore(abs, rel)];
    const entries = readdirSync(abs, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1));
    for (const e of entries) {
      if (truncated) return;
      // Git's store and Baton's own (the session store, checkpoints, remembered rules) are not the project.
      if (e.name === '.git' || e.name === '.baton') continue;
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (ignored(patterns, childRel, e.name, isDir)) continue;
      if (isDir) walk(join(abs, e.name), childRel, patterns);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (files.length >= limit) truncated = true;
        else files.push(childRel);
      }
    }
  };
  // The .gitignore files above `dir`, up to the root, apply too.
  const inherited: Pattern[] = [];
  const parts = dir === '.' ? [] : dir.split('/');
  for (let i = 0; i < parts.length; i++)
    inherited.push(...readIgnore(join(root, ...parts.slice(0, i)), parts.slice(0, i).join('/')));
  walk(join(root, ...parts), parts.join('/'), inherited);
  return { files, truncated };
}
