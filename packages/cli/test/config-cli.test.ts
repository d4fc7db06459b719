// `baton config …` on the real binary.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton } from './run-baton.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/architect/baton', import.meta.url));
const KEYS = {
  ANTHROPIC_API_KEY: 'sk-ant-cli-secret',
  OPENAI_API_KEY: 'o',
  GEMINI_API_KEY: 'g',
  ANYTHINGLLM_API_KEY: 'a',
};
const NO_KEYS = {
  ANTHROPIC_API_KEY: undefined,
  OPENAI_API_KEY: undefined,
  GEMINI_API_KEY: undefined,
  GOOGLE_API_KEY: undefined,
  ANYTHINGLLM_API_KEY: undefined,
};

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A copy of the example configuration with extra files. */
function exampleWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-config-cli-'));
  dirs.push(dir);
  cpSync(EXAMPLE, dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe('baton config', () => {
  it('validate: the example is valid; with the API keys set there is no warning, and --strict passes', async () => {
    const r = await baton(['config', 'validate', EXAMPLE, '--strict'], { env: KEYS });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/valid \(8 files, 0 warnings\)/);
    expect(r.code).toBe(0);
  });

  it('validate: warnings alone exit 0, and 1 with --strict', async () => {
    const env = NO_KEYS;
    const r = await baton(['--config-dir', EXAMPLE, 'config', 'validate'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines)
      expect(l).toMatch(
        /^.*llm_providers\.yaml:\d+:14: warning \[E_CONFIG_INVALID\] llm_providers\.providers\.\w+\.api_key: /,
      );
    const strict = await baton(['config', 'validate', EXAMPLE, '--strict'], { env });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/0 errors, 4 warnings \(--strict\)/);
  });

  it('validate: every error on its own line, file:line:col first; exit 1', async () => {
    const dir = exampleWith({
      'environments/development.yaml':
        'routing_rules:\n  environment_routing:\n    bug_fix:\n      priority: eleven\n',
      'local/overrides.yaml': 'sla_rules:\n  sla_targets:\n    deploy:\n      warning_percent: 95\n',
    });
    const r = await baton(['config', 'validate', dir], { env: KEYS });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /environments\/development\.yaml:4:17: error \[E_CONFIG_INVALID\] routing_rules\.environment_routing\.bug_fix\.priority: expected number, found 'eleven' \(text\)$/,
      ),
      expect.stringMatching(
        /local\/overrides\.yaml:4:24: error \[E_CONFIG_INVALID\] sla_rules\.sla_targets\.deploy\.warning_percent: /,
      ),
    ]);
    // With another environment, the development overrides do not apply.
    const prod = await baton(['config', 'validate', dir, '--env', 'production'], { env: KEYS });
    expect(prod.stdout).not.toContain('development.yaml');
  });

  it('show: a value, YAML or JSON; an unknown path suggests the nearest', async () => {
    const yaml = await baton(
      ['--config-dir', EXAMPLE, 'config', 'show', 'routing_rules.environment_routing.bug_fix'],
      {
        env: KEYS,
      },
    );
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(
      /^requires_env: false\npreferred_sessions:\n {2}- dev_worker2\n {2}- codex\n/,
    );
    const json = await baton(
      ['--config-dir', EXAMPLE, 'config', 'show', 'sla_rules.sla_targets.deploy', '--json'],
      {
        env: KEYS,
      },
    );
    expect(JSON.parse(json.stdout)).toEqual({
      target_minutes: 30,
      warning_percent: 70,
      critical_percent: 90,
      description: 'Deployment tasks',
      notify_on_breach: true,
    });
    const bad = await baton(
      ['--config-dir', EXAMPLE, 'config', 'show', 'routing_rules.environment_routing.bugfix'],
      {
        env: KEYS,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/did you mean 'routing_rules\.environment_routing\.bug_fix'\?/);
  });

  it('show never prints a secret from the environment; --explain says where each value came from', async () => {
    const all = await baton(['--config-dir', EXAMPLE, 'config', 'show', '--json'], { env: KEYS });
    expect(all.code).toBe(0);
    expect(all.stdout).not.toContain('sk-ant-cli-secret');
    expect(JSON.parse(all.stdout).llm_providers.providers.claude.api_key).toBe('********');
    const dir = exampleWith({
      'local/routing_rules.yaml': 'environment_routing:\n  bug_fix:\n    priority: 10\n',
    });
    const ex = await baton(['--config-dir', dir, 'config', 'show', '--explain'], { env: KEYS });
    expect(ex.code).toBe(0);
    expect(ex.stdout).not.toContain('sk-ant-cli-secret');
    expect(ex.stdout).toMatch(
      /routing_rules\.environment_routing\.bug_fix\.priority = 10 {2}.*local\/routing_rules\.yaml:3:15\n {4}overrode 9 {2}.*base\/routing_rules\.yaml:36:15/,
    );
    expect(ex.stdout).toMatch(
      /llm_providers\.providers\.claude\.api_key = "\*{8}" {2}.*llm_providers\.yaml:28:14 {2}from \$\{ANTHROPIC_API_KEY\}/,
    );
  });

  it('schema: JSON Schema per kind, or for an overlay; an unknown kind is refused', async () => {
    const r = await baton(['config', 'schema', '--kind', 'routing_rules']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.environment_routing).toBeDefined();
    expect(schema.properties.kind).toEqual(expect.objectContaining({ const: 'routing_rules' }));
    // workflows.yaml's, for editors: a workflow's steps and each step's type.
    const flows = JSON.parse((await baton(['config', 'schema', '--kind', 'workflows'])).stdout);
    const workflow = flows.properties.workflows.additionalProperties;
    expect(workflow.required).toContain('steps');
    // An editor offers `cron` too: the workflow issue's name for a schedule trigger.
    expect(workflow.properties.trigger.properties.type.enum).toEqual([
      'api',
      'schedule',
      'cron',
      'manual',
      'event',
    ]);
    expect(JSON.stringify(workflow.properties.steps)).toMatch(
      /"enum":\["database","function","conditional","loop"/,
    );
    const overlay = JSON.parse((await baton(['config', 'schema'])).stdout);
    expect(Object.keys(overlay.properties)).toContain('llm_failover_policy');
    const bad = await baton(['config', 'schema', '--kind', 'routing']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown kind 'routing'/);
  });

  it('a missing directory says how to point to one', async () => {
    const r = await baton(['config', 'validate', '/nonexistent/cfg']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[E_CONFIG_INVALID\]: configuration directory '.*cfg' does not exist/);
  });
});
