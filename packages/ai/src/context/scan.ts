// Scans a project into a ProjectIndex: the files git would list (.gitignore respected), each read
// and its facts extracted, except binaries and files over the size cap (skipped, and said why). A
// scan given the previous one's entries reads again only the files whose size or mtime changed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { listFiles } from '../tools/gitignore.js';
import { extractFacts, looksBinary, type FileFacts } from './extract.js';
import { ProjectIndex } from './project-index.js';

/** Files larger than this are not read (default of `maxFileBytes`). */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024;
/** A project with more files than this is cut there (the rest is reported skipped). */
const MAX_FILES = 50_000;

/** What a scan keeps per file, to tell next time whether the file changed. */
export interface ScanEntry {
  readonly mtimeMs: number;
  readonly size: number;
  /** Undefined for a file that was skipped (its reason is in `skipped`). */
  readonly facts?: FileFacts;
  readonly skipped?: string;
}

export interface ScanResult {
  readonly index: ProjectIndex;
  /** Every listed file's entry, for the next scan. */
  readonly entries: Map<string, ScanEntry>;
  /** Files read this time (new or changed). */
  readonly changed: string[];
  /** Files gone since the previous scan. */
  readonly removed: string[];
  /** Files not indexed, with why: binary, over the size cap, unreadable. */
  readonly skipped: { path: string; reason: string }[];
}

export interface ScanOptions {
  readonly previous?: ReadonlyMap<string, ScanEntry>;
  readonly maxFileBytes?: number;
}

export function scanProject(root: string, options: ScanOptions = {}): ScanResult {
  const cap = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const previous = options.previous ?? new Map<string, ScanEntry>();
  const { files, truncated } = listedFiles(root);
  const index = new ProjectIndex();
  const entries = new Map<string, ScanEntry>();
  const changed: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const path of files) {
    const entry = read(root, path, cap, previous.get(path));
    if (entry !== previous.get(path)) changed.push(path);
    entries.set(path, entry);
    if (entry.facts) index.put(entry.facts);
    else skipped.push({ path, reason: entry.skipped ?? 'unreadable' });
  }
  if (truncated) skipped.push({ path: '…', reason: `more than ${MAX_FILES} files: the rest is not indexed` });
  const removed = [...previous.keys()].filter((p) => !entries.has(p));
  return { index, entries, changed, removed, skipped };
}

/**
 * The files under `root` as git would list them. Inside a git work tree, the .gitignore files
 * between the work tree's top and `root` apply too (a package's `dist/` ignored by the top one).
 */
function listedFiles(root: string): { files: string[]; truncated: boolean } {
  let top = root;
  while (!existsSync(join(top, '.git')) && dirname(top) !== top) top = dirname(top);
  if (!existsSync(join(top, '.git')) || top === root) return listFiles(root, '.', MAX_FILES);
  const dir = relative(top, root).split(sep).join('/');
  const { files, truncated } = listFiles(top, dir, MAX_FILES);
  return { files: files.map((f) => f.slice(dir.length + 1)), truncated };
}

/** The file's entry: the previous one when size and mtime are unchanged, else read anew. */
function read(root: string, path: string, cap: number, before: ScanEntry | undefined): ScanEntry {
  const abs = join(root, path);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    const skipped = `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
    return before?.skipped === skipped ? before : { mtimeMs: 0, size: 0, skipped };
  }
  if (before && before.mtimeMs === st.mtimeMs && before.size === st.size) return before;
  const stamp = { mtimeMs: st.mtimeMs, size: st.size };
  if (!st.isFile()) return { ...stamp, skipped: 'not a regular file' };
  if (st.size > cap) return { ...stamp, skipped: `over the size cap (${st.size} bytes > ${cap})` };
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (err) {
    return { ...stamp, skipped: `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  if (looksBinary(bytes)) return { ...stamp, skipped: 'binary' };
  return { ...stamp, facts: extractFacts(path, bytes.toString('utf8')) };
}
