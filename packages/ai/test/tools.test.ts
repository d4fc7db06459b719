// The built-in tools in a real directory: what they do, what the sandbox refuses (traversal,
// absolute paths, symlinks out of the root), .gitignore, caps, and run_command's policy.
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBatonError } from '@baton/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS, ToolSandbox, unifiedDiff, type SandboxOptions } from '../src/index.js';

let root: string;
let outside: string;
const signal = new AbortController().signal;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-tools-'));
  outside = mkdtempSync(join(tmpdir(), 'baton-tools-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'app.ts'), 'const a = 1;\nconst b = 2;\nexport { a, b };\n');
  writeFileSync(join(root, 'README.md'), '# demo\n');
  writeFileSync(join(root, '.gitignore'), 'node_modules/\n*.log\n/build\n!keep.log\n');
  mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'x', 'index.js'), 'x');
  writeFileSync(join(root, 'debug.log'), 'noise');
  writeFileSync(join(root, 'keep.log'), 'kept');
  mkdirSync(join(root, 'build'));
  writeFileSync(join(root, 'build', 'out.js'), 'built');
  mkdirSync(join(root, 'src', 'build'));
  writeFileSync(join(root, 'src', 'build', 'gen.ts'), 'gen');
  symlinkSync(outside, join(root, 'escape'));
});

async function call(
  name: string,
  input: unknown,
  options: Partial<SandboxOptions> = {},
  canRead?: (rel: string) => boolean,
): Promise<string> {
  const sandbox = new ToolSandbox({ root, ...options });
  const tool = BUILTIN_TOOLS[name];
  return tool.run(tool.input.parse(input) as never, { sandbox, signal, canRead });
}

async function refusal(
  name: string,
  input: unknown,
  options: Partial<SandboxOptions> = {},
  canRead?: (rel: string) => boolean,
): Promise<string> {
  const err = await call(name, input, options, canRead).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBatonError(err), String(err)).toBe(true);
  return `${(err as { code: string }).code}: ${(err as Error).message}`;
}

describe('file tools', () => {
  it('read_file numbers lines and reads a range', async () => {
    expect(await call('read_file', { path: 'src/app.ts' })).toBe(
      '1\tconst a = 1;\n2\tconst b = 2;\n3\texport { a, b };',
    );
    expect(await call('read_file', { path: 'src/app.ts', offset: 2, limit: 1 })).toBe('2\tconst b = 2;');
  });

  it('refuses traversal, absolute paths and symlinks out of the root, for reading and writing', async () => {
    expect(await refusal('read_file', { path: '../' + outside.split('/').at(-1) + '/secret.txt' })).toMatch(
      /^E_POLICY_DENIED: .*outside/,
    );
    expect(await refusal('read_file', { path: join(outside, 'secret.txt') })).toMatch(/^E_POLICY_DENIED/);
    expect(await refusal('read_file', { path: 'escape/secret.txt' })).toMatch(/^E_POLICY_DENIED/);
    expect(await refusal('write_file', { path: 'escape/new.txt', content: 'x' })).toMatch(/^E_POLICY_DENIED/);
    symlinkSync(join(outside, 'planted.txt'), join(root, 'dangling'));
    expect(await refusal('write_file', { path: 'dangling', content: 'x' })).toMatch(/^E_POLICY_DENIED/);
    expect(await refusal('list_files', { path: '..' })).toMatch(/^E_POLICY_DENIED/);
    // Nothing was written outside.
    expect(() => readFileSync(join(outside, 'new.txt'))).toThrow();
    expect(() => readFileSync(join(outside, 'planted.txt'))).toThrow();
  });

  it("keeps Baton's own state out of reach: .baton and any protected directory, also through a link", async () => {
    mkdirSync(join(root, '.baton'));
    writeFileSync(join(root, '.baton', 'agent_permissions.json'), '{"allow":[]}');
    expect(
      await refusal('write_file', { path: '.baton/agent_permissions.json', content: '{"allow":["*"]}' }),
    ).toMatch(/^E_POLICY_DENIED: .*Baton's own state/);
    expect(await refusal('read_file', { path: './.baton/agent_permissions.json' })).toMatch(
      /^E_POLICY_DENIED/,
    );
    symlinkSync(join(root, '.baton'), join(root, 'state'));
    expect(await refusal('write_file', { path: 'state/agent_permissions.json', content: 'x' })).toMatch(
      /^E_POLICY_DENIED/,
    );
    expect(
      await refusal(
        'edit_file',
        { path: 'src/app.ts', old_string: 'a', new_string: 'b' },
        { protectedDirs: [join(root, 'src')] },
      ),
    ).toMatch(/^E_POLICY_DENIED/);
    expect(readFileSync(join(root, '.baton', 'agent_permissions.json'), 'utf8')).toBe('{"allow":[]}');
  });

  it('the permission subject of a file call is its real path relative to the root', () => {
    const sandbox = new ToolSandbox({ root });
    symlinkSync(join(root, 'src', 'app.ts'), join(root, 'innocent.txt'));
    expect(BUILTIN_TOOLS.read_file.subject({ path: './innocent.txt' } as never, sandbox)).toEqual({
      path: 'src/app.ts',
    });
  });

  it('list_files respects .gitignore (dirs, globs, anchors, negation), skips .git and lists a link without following it', async () => {
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'HEAD'), 'ref');
    const files = (await call('list_files', {})).split('\n');
    expect(files).toEqual([
      '.gitignore',
      'README.md',
      'escape',
      'keep.log',
      'src/app.ts',
      'src/build/gen.ts',
    ]);
    expect(await call('list_files', { path: 'src', limit: 1 })).toBe(
      'src/app.ts\n[more files: raise limit or list a subdirectory]',
    );
  });

  it('search finds a regex with path and line, and refuses a bad regex', async () => {
    expect(await call('search', { pattern: 'const b', path: 'src' })).toMatch(
      /^src\/app\.ts:2:const b = 2;$/m,
    );
    expect(await call('search', { pattern: 'no such thing' })).toBe('no matches');
    expect(await refusal('search', { pattern: '(' })).toMatch(
      /^E_INPUT_INVALID: pattern is not a valid regular expression/,
    );
  });

  it('search skips files the rules deny reading, and refuses one named outright', async () => {
    writeFileSync(join(root, '.env'), 'SECRET=1\n');
    writeFileSync(join(root, 'src', 'config.ts'), 'const SECRET = process.env.SECRET;\n');
    const noEnv = (rel: string) => !rel.endsWith('.env');
    const found = await call('search', { pattern: 'SECRET', path: '.' }, {}, noEnv);
    expect(found).toMatch(/^src\/config\.ts:1:/m);
    expect(found).not.toMatch(/^\.env:/m);
    // Without the rules it would have been found.
    expect(await call('search', { pattern: 'SECRET', path: '.' })).toMatch(/^\.env:1:SECRET=1$/m);
    expect(await refusal('search', { pattern: 'SECRET', path: '.env' }, {}, noEnv)).toMatch(
      /^E_POLICY_DENIED: \.env may not be read/,
    );
  });

  it('edit_file replaces one exact string and returns a unified diff; refuses a missing or ambiguous one', async () => {
    const diff = await call('edit_file', {
      path: 'src/app.ts',
      old_string: 'const b = 2;',
      new_string: 'const b = 3;',
    });
    expect(diff).toBe(
      '--- a/src/app.ts\n+++ b/src/app.ts\n@@ -1,3 +1,3 @@\n const a = 1;\n-const b = 2;\n+const b = 3;\n export { a, b };\n',
    );
    expect(readFileSync(join(root, 'src', 'app.ts'), 'utf8')).toContain('const b = 3;');
    expect(await refusal('edit_file', { path: 'src/app.ts', old_string: 'nope', new_string: 'x' })).toMatch(
      /was not found in src\/app\.ts/,
    );
    expect(
      await refusal('edit_file', { path: 'src/app.ts', old_string: 'const', new_string: 'let' }),
    ).toMatch(/appears 2 times/);
    await call('edit_file', {
      path: 'src/app.ts',
      old_string: 'const',
      new_string: 'let',
      replace_all: true,
    });
    expect(readFileSync(join(root, 'src', 'app.ts'), 'utf8')).toBe(
      'let a = 1;\nlet b = 3;\nexport { a, b };\n',
    );
  });

  it('write_file creates directories, diffs against what was there, and caps file size', async () => {
    expect(await call('write_file', { path: 'docs/new.md', content: 'hello\n' })).toBe(
      '--- a/docs/new.md\n+++ b/docs/new.md\n@@ -0,0 +1,1 @@\n+hello\n',
    );
    expect(await call('write_file', { path: 'docs/new.md', content: 'hello\n' })).toBe(
      'docs/new.md unchanged',
    );
    expect(
      await refusal('write_file', { path: 'big.txt', content: 'x'.repeat(2000) }, { maxFileBytes: 1000 }),
    ).toMatch(/over the 1000-byte cap/);
    writeFileSync(join(root, 'bin.dat'), Buffer.from([1, 0, 2]));
    expect(await refusal('read_file', { path: 'bin.dat' })).toMatch(/binary file/);
    // A file over the cap is refused to read too, saying its size.
    writeFileSync(join(root, 'huge.txt'), 'y'.repeat(3000));
    expect(await refusal('read_file', { path: 'huge.txt' }, { maxFileBytes: 1000 })).toMatch(
      /huge\.txt is 3000 bytes, over the 1000-byte cap for a file/,
    );
  });

  it('unifiedDiff gives nothing for equal texts and one hunk for a change', () => {
    expect(unifiedDiff('a', 'x\n', 'x\n')).toBe('');
    expect(unifiedDiff('a', '1\n2\n3\n4\n5\n6\n7\n8\n', '1\n2\n3\n4\nfive\n6\n7\n8\n')).toBe(
      '--- a/a\n+++ b/a\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n',
    );
  });
});

describe('run_command', () => {
  it('runs an argv in the root with a scrubbed environment and reports the exit code', async () => {
    process.env.BATON_TEST_SECRET_KEY = 'sk-should-not-leak';
    const out = await call('run_command', {
      argv: ['sh', '-c', 'pwd; echo "key=${BATON_TEST_SECRET_KEY:-unset}"; exit 3'],
    });
    delete process.env.BATON_TEST_SECRET_KEY;
    expect(out).toMatch(/^exit code 3\nstdout:\n.*baton-tools-.*\nkey=unset\n$/);
  });

  it('refuses a shell string unless the policy allows a shell, and a cwd out of the root', async () => {
    expect(await refusal('run_command', { command: 'echo hi' })).toMatch(
      /^E_POLICY_DENIED: the policy allows no shell/,
    );
    expect(await call('run_command', { command: 'echo hi' }, { shell: true })).toBe(
      'exit code 0\nstdout:\nhi\n',
    );
    expect(await refusal('run_command', { argv: ['ls'], cwd: 'escape' })).toMatch(/^E_POLICY_DENIED/);
    expect(() => BUILTIN_TOOLS.run_command.input.parse({ argv: ['ls'], command: 'ls' })).toThrow(
      /argv or command, not both/,
    );
  });

  it('stops a command at its timeout and cuts its output at the cap', async () => {
    expect(await call('run_command', { argv: ['sleep', '5'] }, { timeoutMs: 300 })).toMatch(
      /^timed out after 0.3 s/,
    );
    const big = await call(
      'run_command',
      { argv: ['sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" x'] },
      { maxOutputBytes: 100 },
    );
    expect(big).toMatch(/\[output cut at 100 bytes per stream\]$/);
  });
});
