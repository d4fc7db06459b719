// Project memory: the instruction files a project keeps for coding agents (AGENTS.md, and the
// CLAUDE.md and GEMINI.md other assistants read) in the project directory and every directory
// above it, up to the top of its git work tree (else the filesystem root). They are given to the
// model as project instructions, outermost first, so a nearer file can refine a farther one.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** The files read, in this order within one directory. */
export const MEMORY_FILES = ['AGENTS.md', 'CLAUDE.md', 'GEMINI.md'] as const;
/** A memory file larger than this is cut (and says so): instructions, not documents. */
const MAX_FILE_BYTES = 32 * 1024;

export interface MemoryFile {
  /** The file, relative to the project directory (`AGENTS.md`, `../AGENTS.md`). */
  readonly path: string;
  readonly text: string;
  readonly truncated: boolean;
}

/** The instruction files that apply to `root`, outermost directory first. */
export function projectMemory(root: string): MemoryFile[] {
  const dirs: string[] = [];
  for (let dir = root; ; dir = dirname(dir)) {
    dirs.push(dir);
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) break;
  }
  const out: MemoryFile[] = [];
  for (const dir of dirs.reverse()) {
    for (const name of MEMORY_FILES) {
      const file = join(dir, name);
      let bytes: Buffer;
      try {
        if (!statSync(file).isFile()) continue;
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      const truncated = bytes.length > MAX_FILE_BYTES;
      out.push({
        path: relative(root, file) || name,
        text: bytes.subarray(0, MAX_FILE_BYTES).toString('utf8'),
        truncated,
      });
    }
  }
  return out;
}

/** `system` with the project's instruction files appended, each under its path. */
export function withProjectMemory(system: string, files: readonly MemoryFile[]): string {
  if (files.length === 0) return system;
  const parts = files.map(
    (f) =>
      `<instructions file="${f.path}">\n${f.text.trimEnd()}${f.truncated ? `\n[cut at ${MAX_FILE_BYTES} bytes]` : ''}\n</instructions>`,
  );
  return `${system}\n\nThe project's own instructions follow. Follow them; where two differ, the one nearer the project directory (listed later) wins.\n\n${parts.join('\n\n')}`;
}
