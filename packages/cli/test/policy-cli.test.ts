// `baton policy check`: the real binary on a configuration directory with agent_permissions.yaml.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton } from './run-baton.js';

describe('baton policy check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-policy-cli-'));
  mkdirSync(join(dir, 'base'));
  writeFileSync(
    join(dir, 'base', 'agent_permissions.yaml'),
    'allow:\n  - read_file\n  - run_command(npm test *)\nask:\n  - run_command(git push *)\ndeny:\n  - read_file(**/.env)\n',
  );
  const check = (call: string, ...more: string[]) =>
    baton(['--config-dir', dir, 'policy', 'check', call, ...more]);

  it('prints the decision and the rule that made it, as text or JSON', async () => {
    const deny = await check('read_file(app/.env)', '--json');
    expect(deny.code, deny.stderr).toBe(0);
    expect(JSON.parse(deny.stdout)).toEqual({ decision: 'deny', rule: 'deny: read_file(**/.env)' });
    expect(JSON.parse((await check('read_file(src/a.ts)', '--json')).stdout)).toEqual({
      decision: 'allow',
      rule: 'allow: read_file',
    });
    expect((await check('run_command(npm test --watch)')).stdout).toMatch(
      /^allow\s+allow: run_command\(npm test \*\)/,
    );
    expect((await check('run_command(git push origin main)')).stdout).toMatch(
      /^ask\s+ask: run_command\(git push \*\)/,
    );
    expect(JSON.parse((await check('run_command(npm publish)', '--json')).stdout)).toEqual({
      decision: 'ask',
      rule: null,
    });
  });

  it('refuses a call it cannot read and a rule file with a bad rule, saying where', async () => {
    const bad = await check('read_file(a');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/E_INPUT_INVALID.*is not a tool call/);
    const badDir = mkdtempSync(join(tmpdir(), 'baton-policy-bad-'));
    mkdirSync(join(badDir, 'base'));
    writeFileSync(join(badDir, 'base', 'agent_permissions.yaml'), 'deny:\n  - read file\n');
    const r = await baton(['--config-dir', badDir, 'policy', 'check', 'read_file(x)']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /agent_permissions\.yaml:2:5: error \[E_CONFIG_INVALID\] agent_permissions\.deny\[0\]/,
    );
  });
});
