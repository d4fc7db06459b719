import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError, formatDiagnostic, type ConfigDiagnostic } from '../src/index.js';
import { configDir, exampleBaseFiles, removeDir, EXAMPLE_BASE, FIXTURE_ENV } from './config-helpers.js';

const dirs: string[] = [];
const dir = (files: Record<string, string>) => {
  const d = configDir(files);
  dirs.push(d);
  return d;
};
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

/** Loads and expects a ConfigError; returns its diagnostics. */
async function failures(d: string, env: Record<string, string> = {}): Promise<ConfigDiagnostic[]> {
  const err = await loadConfig(d, { env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return [...(err as ConfigError).diagnostics];
}

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/architect-config', import.meta.url));

describe('the real Architect files', () => {
  it('the example holds the fixture files byte for byte', () => {
    if (!existsSync(FIXTURES)) return; // shared/ is beside the clone on the project's machines only
    for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.yaml'))) {
      expect(readFileSync(join(EXAMPLE_BASE, name), 'utf8'), name).toBe(
        readFileSync(join(FIXTURES, name), 'utf8'),
      );
    }
  });

  it('load with no error and no warning, and read back values from each file', async () => {
    const c = await loadConfig(dir(exampleBaseFiles()), { env: FIXTURE_ENV });
    expect(c.warnings.map(formatDiagnostic)).toEqual([]);
    expect(c.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    expect(c.get('routing_rules.environment_routing.ui_improvement.port_range')).toEqual([6001, 6010]);
    expect(c.get('routing_rules.load_balancing.weights.codex')).toBe(8);
    expect(c.get('sla_rules.sla_targets.deploy.warning_percent')).toBe(70);
    expect(c.get('sla_rules.escalation_rules[0].severity')).toBe('critical');
    expect(c.get('queries.queries.tasks_by_status.params[1].default')).toBe(100);
    expect(c.get('queries.optimization.max_results_without_limit')).toBe(1000);
    expect(c.get('llm_providers.providers.claude.model')).toBe('claude-sonnet-4-5-20250929');
    expect(c.get('llm_providers.providers.claude.api_key')).toBe('sk-ant-test-123');
    expect(c.get('llm_providers.providers.ollama.endpoint')).toBe('http://localhost:11434');
    expect(c.get('llm_failover_policy.routing.by_task_type.rules[0].use_case')).toBe('code_generation');
    expect(c.get('llm_failover_policy.monitoring.alert_webhook')).toBeNull();
    // Two kinds with a `metrics` key stay apart.
    expect(c.get('routing_rules.metrics.track_routing_decisions')).toBe(true);
    expect(c.get('sla_rules.metrics.track_sla_compliance')).toBe(true);
    expect(c.get('sla_rules.metrics.track_routing_decisions')).toBeUndefined();
    expect(Object.isFrozen(c.value)).toBe(true);
    expect(Object.isFrozen(c.get('routing_rules.environment_routing.bug_fix'))).toBe(true);
  });

  it('without the API keys, the only warnings name each unset variable with its file:line', async () => {
    const c = await loadConfig(dir(exampleBaseFiles()), { env: {} });
    const lines = c.warnings.map(formatDiagnostic);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /base\/llm_providers\.yaml:28:14: warning \[E_CONFIG_INVALID\] llm_providers\.providers\.claude\.api_key: \$\{ANTHROPIC_API_KEY\} is not set/,
    );
    expect(lines.join('\n')).toContain('none of GEMINI_API_KEY, GOOGLE_API_KEY is set');
    expect(c.get('llm_providers.providers.claude.api_key')).toBeNull();
    expect(() => c.require('llm_providers.providers.claude.api_key')).toThrow(
      /ANTHROPIC_API_KEY it refers to is not set \(.*llm_providers\.yaml:28:14/,
    );
    expect(c.require('llm_providers.providers.claude.model')).toBe('claude-sonnet-4-5-20250929');
  });

  it('environment references: defaults, nesting, typing and literals', async () => {
    const c = await loadConfig(dir(exampleBaseFiles()), {
      env: {
        ...FIXTURE_ENV,
        CLAUDE_MODEL: 'claude-3-5-haiku-20241022',
        GEMINI_API_KEY: '',
        GOOGLE_API_KEY: 'g-key',
      },
    });
    expect(c.get('llm_providers.providers.claude.model')).toBe('claude-3-5-haiku-20241022');
    // An empty variable takes the default, as in a shell; the default is itself a reference.
    expect(c.get('llm_providers.providers.gemini.api_key')).toBe('g-key');
    const d = dir({
      'base/routing_rules.yaml': [
        'metrics:',
        '  report_interval_minutes: ${INTERVAL:-15}',
        'environment_routing:',
        '  bug_fix:',
        '    description: "costs $${PRICE} or ${CURRENCY:-EUR}"',
        '    priority: 9',
      ].join('\n'),
    });
    const typed = await loadConfig(d, { env: {} });
    expect(typed.get('routing_rules.metrics.report_interval_minutes')).toBe(15);
    expect(typed.get('routing_rules.environment_routing.bug_fix.description')).toBe('costs ${PRICE} or EUR');
    expect(
      (await loadConfig(d, { env: { INTERVAL: '20' } })).get('routing_rules.metrics.report_interval_minutes'),
    ).toBe(20);
    // A quoted reference stays text, so the schema (an integer) refuses it with the place and the found value.
    const quoted = dir({
      'base/routing_rules.yaml': 'metrics:\n  report_interval_minutes: 15\n  retention_days: "${DAYS:-30}"\n',
    });
    await expect(loadConfig(quoted, { env: {} })).rejects.toThrow(
      /routing_rules\.yaml:3:19: error \[E_CONFIG_INVALID\] routing_rules\.metrics\.retention_days: expected number, found a string from \$\{DAYS:-30\}/,
    );
  });
});

describe('layers and merging', () => {
  const base = {
    'base/routing_rules.yaml': [
      'environment_routing:',
      '  bug_fix:',
      '    priority: 9',
      '    preferred_sessions: [dev_worker2, codex]',
      '    timeout_minutes: 30',
      '    description: "Bug fixes"',
      'excluded_sessions: [architect, manager1]',
      'metrics:',
      '  retention_days: 30',
    ].join('\n'),
    'base/sla_rules.yaml':
      'sla_targets:\n  shell:\n    target_minutes: 5\n    warning_percent: 80\n    critical_percent: 100\n',
  };

  it('hashes equal configurations equally, whatever their key order, and tells other values and environments apart', async () => {
    const reordered = {
      ...base,
      'base/sla_rules.yaml':
        'sla_targets:\n  shell:\n    critical_percent: 100\n    warning_percent: 80\n    target_minutes: 5\n',
    };
    const a = await loadConfig(dir(base), { env: {} });
    const b = await loadConfig(dir(reordered), { env: {} });
    expect(a.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    const changed = await loadConfig(
      dir({ ...base, 'base/sla_rules.yaml': base['base/sla_rules.yaml'].replace('80', '85') }),
      { env: {} },
    );
    expect(changed.hash).not.toBe(a.hash);
    const production = await loadConfig(dir(base), { env: {}, environment: 'production' });
    expect(production.hash).not.toBe(a.hash);
  });

  it('environment then local files: maps merge deeply, lists replace, !append adds, null removes', async () => {
    const d = dir({
      ...base,
      'environments/production.yaml': [
        'routing_rules:',
        '  environment_routing:',
        '    bug_fix:',
        '      priority: 10',
        '      preferred_sessions: [codex]',
        '  excluded_sessions: !append [manager2]',
        'sla_rules:',
        '  sla_targets:',
        '    shell:',
        '      target_minutes: 3',
      ].join('\n'),
      'local/overrides.yaml':
        'routing_rules:\n  environment_routing:\n    bug_fix:\n      description: null\n',
    });
    const dev = await loadConfig(d, { env: {} });
    expect(dev.environment).toBe('development');
    expect(dev.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    expect(dev.get('routing_rules.environment_routing.bug_fix.description')).toBeUndefined();

    const prod = await loadConfig(d, { env: { BATON_ENV: 'production' } });
    expect(prod.files.map((f) => f.slice(d.length + 1))).toEqual([
      'base/routing_rules.yaml',
      'base/sla_rules.yaml',
      'environments/production.yaml',
      'local/overrides.yaml',
    ]);
    expect(prod.get('routing_rules.environment_routing.bug_fix')).toEqual({
      priority: 10,
      preferred_sessions: ['codex'],
      timeout_minutes: 30,
    });
    expect(prod.get('routing_rules.excluded_sessions')).toEqual(['architect', 'manager1', 'manager2']);
    expect(prod.get('sla_rules.sla_targets.shell')).toEqual({
      target_minutes: 3,
      warning_percent: 80,
      critical_percent: 100,
    });

    const [priority] = prod.explain('routing_rules.environment_routing.bug_fix.priority');
    expect(priority).toMatchObject({
      value: 10,
      setBy: { file: join(d, 'environments/production.yaml'), line: 4, col: 17 },
    });
    expect(priority!.overrode).toEqual([
      { value: 9, setBy: { file: join(d, 'base/routing_rules.yaml'), line: 3, col: 15 } },
    ]);
    const replaced = prod.explain('routing_rules.environment_routing.bug_fix.preferred_sessions');
    expect(replaced[0]!.overrode[0]!.value).toEqual(['dev_worker2', 'codex']);
    expect(prod.locate('routing_rules.excluded_sessions[2]')).toMatchObject({ line: 6 });
  });

  it('several files make one kind: by name, or by a top-level kind:', async () => {
    const d = dir({
      ...base,
      'base/more-routing.yaml': 'kind: routing_rules\nenvironment_routing:\n  docs:\n    priority: 2\n',
      'local/routing_rules.yaml': 'environment_routing:\n  docs:\n    priority: 3\n',
    });
    const c = await loadConfig(d, { env: {} });
    expect(c.get('routing_rules.environment_routing.docs.priority')).toBe(3);
    expect(c.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    expect(c.get('routing_rules.kind')).toBeUndefined();
  });

  it('masks secrets read from the environment, in show and explain', async () => {
    const d = dir({
      'base/llm_providers.yaml': [
        'providers:',
        '  claude:',
        '    model: claude-sonnet-4-5',
        '    api_key: ${ANTHROPIC_API_KEY}',
        '    endpoint: https://api.anthropic.com',
        '    timeout: 120',
        '    max_retries: 3',
        '    cost_per_1k_prompt: 0.003',
        '    cost_per_1k_completion: 0.015',
      ].join('\n'),
    });
    const c = await loadConfig(d, { env: { ANTHROPIC_API_KEY: 'sk-live-secret' } });
    expect(c.get('llm_providers.providers.claude.api_key')).toBe('sk-live-secret');
    expect(JSON.stringify(c.masked())).not.toContain('sk-live-secret');
    expect(c.masked('llm_providers.providers.claude.api_key')).toBe('********');
    expect(JSON.stringify(c.explain())).not.toContain('sk-live-secret');
    const [key] = c.explain('llm_providers.providers.claude.api_key');
    expect(key).toMatchObject({
      value: '********',
      env: { raw: '${ANTHROPIC_API_KEY}', vars: ['ANTHROPIC_API_KEY'] },
    });
  });
});

describe('bad input: a clear error with file:line:col', () => {
  const oneLine = async (files: Record<string, string>, env: Record<string, string> = {}) => {
    const diags = await failures(dir(files), env);
    return diags.filter((x) => x.severity === 'error').map(formatDiagnostic);
  };

  it('malformed YAML', async () => {
    const [e] = await oneLine({ 'base/sla_rules.yaml': 'sla_targets:\n  shell: [1, 2\n  python: 3\n' });
    expect(e).toMatch(/^.*base\/sla_rules\.yaml:\d+:\d+: error \[E_CONFIG_INVALID\] malformed YAML: /);
  });

  it('a duplicate key in one mapping', async () => {
    const [e] = await oneLine({
      'base/sla_rules.yaml': 'sla_targets:\n  shell:\n    target_minutes: 5\n    target_minutes: 6\n',
    });
    expect(e).toMatch(
      /sla_rules\.yaml:4:5: error \[E_CONFIG_INVALID\] duplicate key 'target_minutes' in one mapping/,
    );
  });

  it('a tab used for indentation', async () => {
    const [e] = await oneLine({ 'base/sla_rules.yaml': 'sla_targets:\n\tshell:\n\t\ttarget_minutes: 5\n' });
    expect(e).toMatch(/sla_rules\.yaml:2:1: error \[E_CONFIG_INVALID\] a tab is used for indentation/);
  });

  it('an unterminated ${', async () => {
    const [e] = await oneLine({
      'base/llm_providers.yaml': 'providers:\n  claude:\n    model: ${CLAUDE_MODEL:-sonnet\n',
    });
    expect(e).toMatch(
      /llm_providers\.yaml:3:12: error \[E_CONFIG_INVALID\] llm_providers\.providers\.claude\.model: unterminated reference '\$\{CLAUDE_MODEL:-sonnet': add the closing \}/,
    );
  });

  it('a file of unknown kind, in base/ and as an overlay key', async () => {
    const [a] = await oneLine({ 'base/routing_rule.yaml': 'version: "1.0"\n' });
    expect(a).toMatch(
      /routing_rule\.yaml:1:1: error .*unknown kind 'routing_rule' \(did you mean 'routing_rules'\?\)/,
    );
    const [b] = await oneLine({ 'base/whatever.yaml': 'kind: sla_rule\n' });
    expect(b).toMatch(
      /whatever\.yaml:1:7: error \[E_CONFIG_INVALID\] kind: unknown kind 'sla_rule' \(did you mean 'sla_rules'\?\)/,
    );
    const [c] = await oneLine({ 'local/overrides.yaml': 'sla_rulez:\n  metrics: {}\n' });
    expect(c).toMatch(
      /overrides\.yaml:1:1: error \[E_CONFIG_INVALID\] sla_rulez: unknown kind 'sla_rulez' \(did you mean 'sla_rules'\?\)/,
    );
  });

  it('an empty file', async () => {
    const [e] = await oneLine({ 'base/sla_rules.yaml': '# nothing yet\n' });
    expect(e).toMatch(/sla_rules\.yaml:1:1: error \[E_CONFIG_INVALID\] file is empty/);
    // In an overlay an empty file is only a warning (a local file with everything commented out is common).
    const c = await loadConfig(dir({ 'local/overrides.yaml': '' }), { env: {} });
    expect(c.warnings.map(formatDiagnostic)[0]).toMatch(/overrides\.yaml:1:1: warning .*file is empty/);
  });

  it('a 10 MB file is refused before it is read', async () => {
    const big = `sla_targets:\n${'  # padding padding padding padding padding padding padding padding padding\n'.repeat(140_000)}`;
    expect(big.length).toBeGreaterThan(10_000_000);
    const [e] = await oneLine({ 'base/sla_rules.yaml': big });
    expect(e).toMatch(
      /sla_rules\.yaml:1:1: error \[E_CONFIG_INVALID\] file is 10\.\d MB, over the 1\.0 MB limit/,
    );
  });

  it('a wrong type or a value out of range names the key path, expected and found', async () => {
    const errors = await oneLine({
      'base/routing_rules.yaml':
        'environment_routing:\n  bug_fix:\n    priority: high\n  testing:\n    priority: 12\n',
    });
    expect(errors).toEqual([
      expect.stringMatching(
        /routing_rules\.yaml:3:15: error \[E_CONFIG_INVALID\] routing_rules\.environment_routing\.bug_fix\.priority: expected number, found 'high' \(text\)/,
      ),
      expect.stringMatching(
        /routing_rules\.yaml:5:15: error \[E_CONFIG_INVALID\] routing_rules\.environment_routing\.testing\.priority: expected at most 10, found 12/,
      ),
    ]);
  });

  it('an unknown key is a warning with a did-you-mean, and the rest loads', async () => {
    const c = await loadConfig(
      dir({
        'base/routing_rules.yaml':
          'environment_routing:\n  bug_fix:\n    priorty: 9\n    timeout_minutes: 30\n',
      }),
      { env: {} },
    );
    expect(c.warnings.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /routing_rules\.yaml:3:5: warning \[E_CONFIG_INVALID\] routing_rules\.environment_routing\.bug_fix\.priorty: unknown key 'priorty' is ignored \(did you mean 'priority'\?\)/,
      ),
    ]);
    expect(c.get('routing_rules.environment_routing.bug_fix')).toEqual({ timeout_minutes: 30 });
  });

  it('a missing directory, a bad BATON_ENV', async () => {
    await expect(loadConfig('/nonexistent/baton-config', { env: {} })).rejects.toThrow(
      /configuration directory '.*' does not exist: create it with a base\/ folder, or point to it with --config-dir/,
    );
    await expect(loadConfig(dir(exampleBaseFiles()), { env: { BATON_ENV: '../etc' } })).rejects.toThrow(
      /BATON_ENV '\.\.\/etc' is not a valid environment name/,
    );
  });

  it('reports every error of a load, not just the first', async () => {
    const diags = await failures(
      dir({
        'base/sla_rules.yaml': 'sla_targets:\n  shell:\n    target_minutes: soon\n',
        'base/routing_rules.yaml': 'a: [\n',
      }),
    );
    expect(diags.filter((d) => d.severity === 'error').map((d) => d.file.split('/').pop())).toEqual([
      'routing_rules.yaml',
      'sla_rules.yaml',
    ]);
  });
});

describe('review fixes: secrets, chains, aliases, tags and checks beyond the schemas', () => {
  it('never prints a value read from the environment in an error, and gives text back where the schema wants text', async () => {
    const d = dir({
      'base/llm_providers.yaml': [
        'providers:',
        '  claude:',
        '    model: claude-sonnet-4-5',
        '    api_key: ${ANTHROPIC_API_KEY}',
        '    timeout: ${CLAUDE_TIMEOUT}',
      ].join('\n'),
    });
    const diags = await failures(d, { ANTHROPIC_API_KEY: '123456', CLAUDE_TIMEOUT: 'sk-leaked-secret' });
    const lines = diags.map(formatDiagnostic);
    expect(lines).toEqual([
      expect.stringMatching(
        /llm_providers\.yaml:5:14: error \[E_CONFIG_INVALID\] llm_providers\.providers\.claude\.timeout: expected number, found a string from \$\{CLAUDE_TIMEOUT\}$/,
      ),
    ]);
    expect(lines.join('\n')).not.toContain('sk-leaked-secret');
    // A key of digits stays the text it was: YAML would read it as a number, the schema wants text.
    const ok = await loadConfig(d, { env: { ANTHROPIC_API_KEY: '0123456', CLAUDE_TIMEOUT: '60' } });
    expect(ok.get('llm_providers.providers.claude.api_key')).toBe('0123456');
    expect(ok.get('llm_providers.providers.claude.timeout')).toBe(60);
  });

  it('an unset chain of defaults names every variable of the chain', async () => {
    const c = await loadConfig(dir(exampleBaseFiles()), {
      env: { ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'b', ANYTHINGLLM_API_KEY: 'd' },
    });
    expect(c.warnings.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /llm_providers\.yaml:110:14: warning .*gemini\.api_key: none of GEMINI_API_KEY, GOOGLE_API_KEY is set \(\$\{GEMINI_API_KEY:-\$\{GOOGLE_API_KEY\}\}\)/,
      ),
    ]);
  });

  it('masks secrets in lists and in replaced values, and hides URL passwords', async () => {
    const d = dir({
      'base/datasources.yaml': [
        'datasources:',
        '  reports:',
        '    type: postgres',
        '    url: postgres://app:hunter2@db.internal:5432/reports',
      ].join('\n'),
      'base/llm_providers.yaml': ['providers:', '  claude:', '    model: m', '    api_key: ${OLD_KEY}'].join(
        '\n',
      ),
      'local/llm_providers.yaml': 'providers:\n  claude:\n    model: m2\n    api_key: ${NEW_KEY}\n',
    });
    const c = await loadConfig(d, { env: { OLD_KEY: 'sk-old-secret', NEW_KEY: 'sk-new-secret' } });
    const shown = JSON.stringify([c.masked(), c.explain()]);
    for (const secret of ['sk-old-secret', 'sk-new-secret', 'hunter2']) expect(shown).not.toContain(secret);
    expect(c.masked('datasources.datasources.reports.url')).toBe(
      'postgres://app:********@db.internal:5432/reports',
    );
    const [key] = c.explain('llm_providers.providers.claude.api_key');
    expect(key!.overrode).toEqual([{ value: '********', setBy: expect.objectContaining({ line: 4 }) }]);
    // The real value is still there for the component that needs it.
    expect(c.require('llm_providers.providers.claude.api_key')).toBe('sk-new-secret');
  });

  it('refuses !append on anything but a list, and aliases that expand past the limit', async () => {
    const [append] = (
      await failures(dir({ 'local/overrides.yaml': 'routing_rules: !append\n  metrics: {}\n' }))
    ).map(formatDiagnostic);
    expect(append).toMatch(
      /overrides\.yaml:2:3: error \[E_CONFIG_INVALID\] routing_rules: !append applies to a list/,
    );
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++)
      bomb.push(
        `${'abcdefg'[i]}: &${'abcdefg'[i]} [${Array(10)
          .fill(`*${'abcdefg'[i - 1]}`)
          .join(', ')}]`,
      );
    const started = Date.now();
    const [e] = (await failures(dir({ 'base/routing_rules.yaml': `${bomb.join('\n')}\n` }))).map(
      formatDiagnostic,
    );
    expect(e).toMatch(
      /routing_rules\.yaml:\d+:\d+: error \[E_CONFIG_INVALID\] .*aliases expand to more than 100,000 values/,
    );
    expect(Date.now() - started).toBeLessThan(30_000); // it stops early rather than building ten million values
  });

  it('reports an SLA condition that does not compile at load, with its file:line', async () => {
    const d = dir({
      'base/sla_rules.yaml': [
        'sla_targets:',
        '  default:',
        '    target_minutes: 10',
        'escalation_rules:',
        '  - condition: "percent_usd >= critical_percent"',
        '    severity: critical',
        '    action: alert_user',
      ].join('\n'),
    });
    const [e] = (await failures(d)).map(formatDiagnostic);
    expect(e).toMatch(
      /sla_rules\.yaml:5:16: error \[E_CONFIG_INVALID\] sla_rules\.escalation_rules\[0\]\.condition: .*percent_usd.*percent_used/,
    );
  });
});

describe('checks across kinds, at load and without any database', () => {
  it('a query naming an unknown datasource, or using a param it does not declare', async () => {
    const d = dir({
      'base/datasources.yaml': 'datasources:\n  main:\n    type: sqlite\n    path: data/none-yet.db\n',
      'base/queries.yaml': [
        'queries:',
        '  by_status:',
        '    description: d',
        '    sql: SELECT id FROM tasks WHERE status = :status',
        '    params: []',
        '  elsewhere:',
        '    description: d',
        '    datasource: mian',
        '    sql: SELECT 1',
        '    params: []',
      ].join('\n'),
    });
    const lines = (await failures(d)).map(formatDiagnostic);
    expect(lines).toEqual([
      expect.stringMatching(
        /queries\.yaml:4:10: error \[E_CONFIG_INVALID\] queries\.queries\.by_status\.sql: query 'by_status': .*:status/,
      ),
      expect.stringMatching(
        /queries\.yaml:8:17: error \[E_CONFIG_INVALID\] queries\.queries\.elsewhere\.datasource: .*'mian'.*did you mean 'main'/,
      ),
    ]);
  });
});
