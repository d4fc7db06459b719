// The built-in file tools: read_file, list_files, search, edit_file and write_file. Every path
// goes through the sandbox (roots, links followed) and every result through its output cap.
import { BatonError, runUnderPolicy } from '@baton/core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { unifiedDiff } from './diff.js';
import { listFiles } from './gitignore.js';
import type { ToolSandbox } from './sandbox.js';
import { defineTool } from './tool.js';

const pathSubject = (input: { path?: string }, sandbox: ToolSandbox) => ({
  path: sandbox.resolve(input.path ?? '.').rel,
});

/** A text file's content, refused when it is too big or binary. */
function readText(sandbox: ToolSandbox, path: string): { real: string; rel: string; text: string } {
  const { real, rel } = sandbox.resolve(path);
  let size: number;
  try {
    const st = statSync(real);
    if (st.isDirectory()) throw new BatonError('E_INPUT_INVALID', `${rel} is a directory: use list_files`);
    size = st.size;
  } catch (err) {
    if (err instanceof BatonError) throw err;
    throw new BatonError('E_NOT_FOUND', `${rel} does not exist`);
  }
  if (size > sandbox.maxFileBytes)
    throw new BatonError(
      'E_INPUT_INVALID',
      `${rel} is ${size} bytes, over the ${sandbox.maxFileBytes}-byte cap for a file`,
    );
  const bytes = readFileSync(real);
  if (bytes.subarray(0, 8192).includes(0)) throw new BatonError('E_INPUT_INVALID', `${rel} is a binary file`);
  return { real, rel, text: bytes.toString('utf8') };
}

export const readFile = defineTool({
  name: 'read_file',
  description:
    'Read a text file of the project. Lines are numbered; give offset (first line, from 1) and limit for part of a long file.',
  input: z.strictObject({
    path: z.string().min(1).describe('Path relative to the project root'),
    offset: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).optional(),
  }),
  idempotent: true,
  effect: 'read',
  subject: pathSubject,
  async run(input, { sandbox }) {
    const { text } = readText(sandbox, input.path);
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const first = (input.offset ?? 1) - 1;
    const shown = lines.slice(first, input.limit === undefined ? undefined : first + input.limit);
    const width = String(first + shown.length).length;
    return sandbox.cap(shown.map((l, i) => `${String(first + i + 1).padStart(width)}\t${l}`).join('\n'));
  },
});

export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List the files under a directory of the project (default: all), as git would: .gitignore is respected.',
  input: z.strictObject({
    path: z.string().min(1).optional().describe('Directory relative to the project root'),
    limit: z.number().int().min(1).max(10_000).optional(),
  }),
  idempotent: true,
  effect: 'read',
  subject: pathSubject,
  async run(input, { sandbox }) {
    const { rel } = sandbox.resolve(input.path ?? '.');
    const { files, truncated } = listFiles(sandbox.root, rel, input.limit ?? 1000);
    return sandbox.cap(
      files.join('\n') + (truncated ? `\n[more files: raise limit or list a subdirectory]` : ''),
    );
  },
});

let rgAvailable: boolean | undefined;
const hasRg = () => (rgAvailable ??= spawnSync('rg', ['--version'], { stdio: 'ignore' }).status === 0);

export const search = defineTool({
  name: 'search',
  description:
    "Search the project's files for a regular expression; prints path:line:text. Uses ripgrep when installed.",
  input: z.strictObject({
    pattern: z.string().min(1).describe('Regular expression'),
    path: z.string().min(1).optional().describe('Directory or file to search (default: the project)'),
    max_results: z.number().int().min(1).max(5000).optional(),
  }),
  idempotent: true,
  effect: 'read',
  subject: pathSubject,
  async run(input, { sandbox, canRead = () => true }) {
    const max = input.max_results ?? 200;
    const { real, rel } = sandbox.resolve(input.path ?? '.');
    let regex: RegExp;
    try {
      regex = new RegExp(input.pattern);
    } catch (err) {
      throw new BatonError(
        'E_INPUT_INVALID',
        `pattern is not a valid regular expression: ${(err as Error).message}`,
      );
    }
    const isDir = statSync(real).isDirectory();
    if (!isDir && !canRead(rel))
      throw new BatonError('E_POLICY_DENIED', `${rel} may not be read (the rules deny read_file on it)`);
    const hits: string[] = [];
    if (hasRg()) {
      // --null: a NUL after each path, so that a path with a colon cannot pass for another.
      const run = await runUnderPolicy(
        sandbox.policy,
        ['rg', '--null', '--line-number', '--no-heading', '--color', 'never', '-e', input.pattern, '--', rel],
        { cwd: sandbox.root },
      );
      if (run.code !== 0 && run.code !== 1)
        throw new BatonError('E_INPUT_INVALID', `search failed: ${run.stderr.trim()}`);
      for (const line of run.stdout.split('\n')) {
        const nul = line.indexOf('\0');
        if (nul < 0) continue;
        const file = line.slice(0, nul).replace(/^\.\//, '');
        if (canRead(file)) hits.push(`${file}:${line.slice(nul + 1)}`);
        if (hits.length >= max) break;
      }
    } else {
      const files = isDir ? listFiles(sandbox.root, rel, 100_000).files : [rel];
      for (const f of files) {
        if (!canRead(f)) continue;
        let text: string;
        try {
          text = readText(sandbox, f).text;
        } catch {
          continue; // binary, too big, or Baton's own: as ripgrep skips binaries
        }
        text.split('\n').forEach((line, i) => {
          if (hits.length < max && regex.test(line)) hits.push(`${f}:${i + 1}:${line}`);
        });
        if (hits.length >= max) break;
      }
    }
    return sandbox.cap(hits.length ? hits.join('\n') : 'no matches');
  },
});

export const editFile = defineTool({
  name: 'edit_file',
  description:
    'Replace an exact string in a file with another. old_string must appear exactly once, unless replace_all is true. Returns a unified diff.',
  input: z.strictObject({
    path: z.string().min(1),
    old_string: z.string().min(1),
    new_string: z.string(),
    replace_all: z.boolean().optional(),
  }),
  // Run twice, an edit fails (its old string is gone) or changes twice: never re-run blindly.
  idempotent: false,
  effect: 'edit',
  subject: pathSubject,
  async run(input, { sandbox, checkpoint }) {
    const { real, rel, text } = readText(sandbox, input.path);
    const count = text.split(input.old_string).length - 1;
    if (count === 0)
      throw new BatonError(
        'E_INPUT_INVALID',
        `old_string was not found in ${rel}: read the file and copy the exact text`,
      );
    if (count > 1 && !input.replace_all)
      throw new BatonError(
        'E_INPUT_INVALID',
        `old_string appears ${count} times in ${rel}: include more surrounding text to pick one, or set replace_all`,
      );
    const after = input.replace_all
      ? text.split(input.old_string).join(input.new_string)
      : text.replace(input.old_string, () => input.new_string);
    if (Buffer.byteLength(after) > sandbox.maxFileBytes)
      throw new BatonError(
        'E_INPUT_INVALID',
        `the edited ${rel} would be over the ${sandbox.maxFileBytes}-byte cap for a file`,
      );
    await checkpoint?.(rel);
    writeFileSync(real, after);
    return sandbox.cap(unifiedDiff(rel, text, after));
  },
});

export const writeFile = defineTool({
  name: 'write_file',
  description:
    'Write a whole file (created with its directories, or replaced). Returns a unified diff against what was there.',
  input: z.strictObject({ path: z.string().min(1), content: z.string() }),
  // Writing the same content again leaves the same file.
  idempotent: true,
  effect: 'edit',
  subject: pathSubject,
  async run(input, { sandbox, checkpoint }) {
    const { real, rel } = sandbox.resolve(input.path);
    if (Buffer.byteLength(input.content) > sandbox.maxFileBytes)
      throw new BatonError(
        'E_INPUT_INVALID',
        `content is over the ${sandbox.maxFileBytes}-byte cap for a file`,
      );
    let before = '';
    try {
      before = readText(sandbox, input.path).text;
    } catch (err) {
      if ((err as BatonError).code !== 'E_NOT_FOUND') throw err;
    }
    await checkpoint?.(rel);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, input.content);
    return sandbox.cap(unifiedDiff(rel, before, input.content) || `${rel} unchanged`);
  },
});
