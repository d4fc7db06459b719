// `baton flows …` on the real binary, against the example (examples/flows) and a broken copy of it.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton } from './run-baton.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/flows/baton', import.meta.url));
const FUNCTIONS = fileURLToPath(new URL('../../../examples/flows/functions.ts', import.meta.url));

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-flows-cli-'));
  dirs.push(dir);
  return dir;
}

describe('baton flows', () => {
  it('validate: the example is valid with its functions, and says what it did not check without them', async () => {
    const ok = await baton(['flows', 'validate', '--config-dir', EXAMPLE, '-m', FUNCTIONS]);
    expect(ok.stderr).toMatch(/^1 workflow valid\n$/);
    expect(ok.code).toBe(0);
    const bare = await baton(['flows', 'validate', '--config-dir', EXAMPLE]);
    expect(bare.stderr).toMatch(/functions not checked: give the modules with -m/);
  });

  it('validate: a template error and an unknown function are reported at file:line:col, exit 1', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'base'));
    writeFileSync(
      join(dir, 'base/workflows.yaml'),
      'workflows:\n  w:\n    steps:\n      - { id: a, type: set, vars: { x: "${input.n +}" } }\n',
    );
    const bad = await baton(['flows', 'validate', '--config-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/base\/workflows\.yaml:4:52: error \[E_CONFIG_INVALID\] .*expected a value/);
    // the line, and a caret under the failing character
    expect(bad.stderr).toContain(
      `  ${'      - { id: a, type: set, vars: { x: "${input.n +}" } }'}\n  ${' '.repeat(51)}^`,
    );
    writeFileSync(
      join(dir, 'base/workflows.yaml'),
      'workflows:\n  w:\n    steps:\n      - { id: a, type: function, function: biuld }\n',
    );
    const unknown = await baton(['flows', 'validate', '--config-dir', dir, '-m', FUNCTIONS]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /workflows\.yaml:4:44: .*unknown function 'biuld' \(did you mean 'build'\?\)/,
    );
    // Run here, it is refused before it starts: nothing is stored, nothing runs.
    const cwd = tempDir();
    const run = await baton(['flows', 'run', 'w', '--config-dir', dir, '-m', FUNCTIONS], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/workflows\.yaml:4:44: .*unknown function 'biuld'/);
    const stored = await baton(['workflows', 'list', '--json'], { cwd });
    expect(JSON.parse(stored.stdout)).toEqual([]);
  });

  it('validate: a notification channel no workflow can send on (sms) is refused at file:line:col, naming those that can', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'base'));
    writeFileSync(
      join(dir, 'base/workflows.yaml'),
      'workflows:\n  w:\n    steps:\n      - { id: a, type: notification, channel: sms, message: hi }\n',
    );
    const bad = await baton(['flows', 'validate', '--config-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /base\/workflows\.yaml:4:47: error \[E_CONFIG_INVALID\] \S+channel: channel 'sms' cannot send from a workflow: use dashboard, log, webhook/,
    );
  });

  it('run: runs the example to its end in this process and prints its output; a bad input starts nothing', async () => {
    const cwd = tempDir();
    const input = JSON.stringify({ service: 'api', hosts: ['a', 'b', 'c'] });
    const r = await baton(
      ['flows', 'run', 'release', '--input', input, '-m', FUNCTIONS, '--config-dir', EXAMPLE],
      { cwd },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { steps: Record<string, unknown>; vars: Record<string, unknown> };
    expect(out.vars).toEqual({ label: 'release api api-1.4.2.tgz', waves: 3 });
    expect((out.steps.deploy_all as { host: string }[]).map((d) => d.host)).toEqual(['a', 'b', 'c']);
    const bad = await baton(
      ['flows', 'run', 'release', '--input', '{"service":1}', '-m', FUNCTIONS, '--config-dir', EXAMPLE],
      {
        cwd,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/input of workflow 'release': unknown field|field 'service' must be a string/);
    const list = await baton(['workflows', 'list', '--json'], { cwd });
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(1);
    const runs = await baton(['flows', 'runs', 'release'], { cwd });
    expect(runs.stdout).toMatch(/^\S+ {2}completed {2}sha256:[0-9a-f]{12} {2}\d{4}-/m);
    const shown = await baton(['flows', 'show', runs.stdout.split(' ')[0]!], { cwd });
    expect(shown.stdout).toMatch(/^version: sha256:[0-9a-f]{64}\n/);
    expect(shown.stdout).toMatch(/deploy_all\.0\.function/);
  });

  it('plan: shows what would run and the values known before running, and runs nothing', async () => {
    const cwd = tempDir();
    const input = JSON.stringify({ service: 'api', hosts: ['a'], canary: true });
    const r = await baton(['flows', 'plan', 'release', '--input', input, '--config-dir', EXAMPLE], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ build \[function\]\n\s+input: \{"service":"api"\}/);
    expect(r.stdout).toMatch(/vars: \{"waves":1,"label":"release api ⟨steps.build.artifact⟩"\}/);
    expect(r.stdout).toMatch(/✓ canary \[conditional\]/);
    // one host: the canary's condition is false, so its branch is not in the plan
    expect(r.stdout).not.toMatch(/canary\.function/);
    expect(r.stdout).toMatch(/\? deploy_all.0.function \[function\]\n\s+input: \{"host":"⟨item⟩"/);
    // nothing ran, so nothing was created: the store has no schema yet
    const none = await baton(['flows', 'runs', 'release'], { cwd });
    expect(none.stderr).toMatch(/schema version 0.*run `baton migrate`/);
  });
});
