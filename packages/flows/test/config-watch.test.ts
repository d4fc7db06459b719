import { describe, it, expect, afterEach } from 'vitest';
import { rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type ConfigChange, type ConfigWatcher } from '../src/index.js';
import { configDir, removeDir } from './config-helpers.js';
import { createLogger } from '@baton/core';

const ROUTING = 'environment_routing:\n  bug_fix:\n    priority: 9\n    timeout_minutes: 30\n';
const SLA =
  'sla_targets:\n  shell:\n    target_minutes: 5\n    warning_percent: 80\n    critical_percent: 100\n';

let watcher: ConfigWatcher | undefined;
let dir = '';
afterEach(() => {
  watcher?.close();
  removeDir(dir);
});

/** Resolves with the next applied change, or the next rejection's error. */
async function live(files: Record<string, string>) {
  dir = configDir(files);
  const config = await loadConfig(dir, { env: {} });
  const changes: ConfigChange[] = [];
  const errors: Error[] = [];
  let wake: () => void = () => undefined;
  watcher = config.watch(
    (c) => {
      changes.push(c);
      wake();
    },
    {
      debounceMs: 50,
      onError: (e) => {
        errors.push(e);
        wake();
      },
      logger: createLogger('silent'),
    },
  );
  const next = (timeoutMs = 5000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reload within the time')), timeoutMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  return { config, changes, errors, next, w: watcher };
}

describe('hot reload', () => {
  it('a good edit is swapped in and subscribers get the changed key paths', async () => {
    const { changes, next, w, config } = await live({
      'base/routing_rules.yaml': ROUTING,
      'base/sla_rules.yaml': SLA,
    });
    const reloaded = next();
    writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', 'priority: 10'));
    await reloaded;
    expect(changes).toHaveLength(1);
    expect(changes[0]!.changed).toEqual(['routing_rules.environment_routing.bug_fix.priority']);
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(10);
    // The loaded Config is immutable: the old one still says 9.
    expect(config.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
  });

  it('a bad edit is rejected and the last good configuration stays; fixing it applies', async () => {
    const { changes, errors, next, w } = await live({ 'base/routing_rules.yaml': ROUTING });
    let reloaded = next();
    writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', 'priority: urgent'));
    await reloaded;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(
      /routing_rules\.yaml:3:15: error \[E_CONFIG_INVALID\] .*priority: expected number/,
    );
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    expect(w.counts.rejected).toBe(1);
    reloaded = next();
    writeFileSync(
      join(dir, 'base/routing_rules.yaml'),
      'environment_routing:\n  bug_fix:\n    priority: 8\n\tx: 1\n',
    );
    await reloaded;
    expect(errors).toHaveLength(2);
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    reloaded = next();
    writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', 'priority: 7'));
    await reloaded;
    expect(changes.at(-1)!.changed).toEqual(['routing_rules.environment_routing.bug_fix.priority']);
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(7);
  });

  it('a file removed, and an overlay added', async () => {
    const { changes, next, w } = await live({
      'base/routing_rules.yaml': ROUTING,
      'base/sla_rules.yaml': SLA,
    });
    let reloaded = next();
    rmSync(join(dir, 'base/sla_rules.yaml'));
    await reloaded;
    expect(w.current.get('sla_rules')).toBeUndefined();
    expect(changes[0]!.changed).toEqual(['sla_rules']);
    reloaded = next();
    mkdirSync(join(dir, 'local'));
    writeFileSync(
      join(dir, 'local/overrides.yaml'),
      'routing_rules:\n  environment_routing:\n    bug_fix:\n      timeout_minutes: 45\n',
    );
    await reloaded;
    expect(w.current.get('routing_rules.environment_routing.bug_fix.timeout_minutes')).toBe(45);
  });

  it('a burst of edits is one reload of the final state', async () => {
    const { changes, next, w } = await live({ 'base/routing_rules.yaml': ROUTING });
    const reloaded = next();
    for (let p = 0; p <= 10; p++) {
      writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', `priority: ${p}`));
      appendFileSync(join(dir, 'base/routing_rules.yaml'), '# edited\n');
    }
    await reloaded;
    await new Promise((r) => setTimeout(r, 300));
    expect(changes).toHaveLength(1);
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(10);
    expect(w.counts.applied).toBe(1);
  });

  it('an edit that changes nothing but comments notifies no one', async () => {
    const { changes, w } = await live({ 'base/routing_rules.yaml': ROUTING });
    appendFileSync(join(dir, 'base/routing_rules.yaml'), '# a comment\n');
    await new Promise((r) => setTimeout(r, 400));
    expect(changes).toHaveLength(0);
    expect(w.counts.unchanged).toBeGreaterThanOrEqual(1);
  });
});

describe('hot reload: every kind of bad edit keeps the last good configuration', () => {
  const bad: Record<string, string> = {
    'malformed YAML': 'environment_routing:\n  bug_fix: [1, 2\n',
    'a duplicate key': 'environment_routing:\n  bug_fix:\n    priority: 9\n    priority: 8\n',
    'a tab for indentation': 'environment_routing:\n\tbug_fix:\n\t\tpriority: 9\n',
    'an unterminated ${': 'environment_routing:\n  bug_fix:\n    description: ${DESC\n',
    'an empty file': '# emptied\n',
    'a wrong type': 'environment_routing:\n  bug_fix:\n    priority: high\n',
    'a value out of range': 'environment_routing:\n  bug_fix:\n    priority: 11\n',
    '!append on a mapping': 'environment_routing: !append\n  bug_fix:\n    priority: 9\n',
  };
  for (const [what, text] of Object.entries(bad)) {
    it(what, async () => {
      const { errors, next, w } = await live({ 'base/routing_rules.yaml': ROUTING });
      const reloaded = next();
      writeFileSync(join(dir, 'base/routing_rules.yaml'), text);
      await reloaded;
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/routing_rules\.yaml:\d+:\d+: error \[E_CONFIG_INVALID\]/);
      expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
    });
  }

  it('a file of unknown kind, and a 10 MB file, added beside the good ones', async () => {
    const { errors, next, w } = await live({ 'base/routing_rules.yaml': ROUTING });
    let reloaded = next();
    writeFileSync(join(dir, 'base/routing_rule.yaml'), 'environment_routing: {}\n');
    await reloaded;
    expect(errors.at(-1)!.message).toMatch(/unknown kind 'routing_rule'/);
    // The removal brings back the good files: the same values as before, so no subscriber is told.
    rmSync(join(dir, 'base/routing_rule.yaml'));
    await waitFor(() => w.counts.unchanged >= 1);
    reloaded = next();
    writeFileSync(join(dir, 'base/sla_rules.yaml'), `sla_targets: {}\n${'#'.repeat(10_500_000)}\n`);
    await reloaded;
    expect(errors.at(-1)!.message).toMatch(/file is 10\.\d MB, over the 1\.0 MB limit/);
    expect(w.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(9);
  });

  it('a subscriber that throws is logged, and later reloads still apply', async () => {
    dir = configDir({ 'base/routing_rules.yaml': ROUTING });
    const config = await loadConfig(dir, { env: {} });
    let calls = 0;
    watcher = config.watch(
      () => {
        calls++;
        throw new Error('subscriber bug');
      },
      { debounceMs: 30, logger: createLogger('silent') },
    );
    writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', 'priority: 8'));
    await waitFor(() => calls === 1);
    writeFileSync(join(dir, 'base/routing_rules.yaml'), ROUTING.replace('priority: 9', 'priority: 7'));
    await waitFor(() => calls === 2);
    expect(watcher.current.get('routing_rules.environment_routing.bug_fix.priority')).toBe(7);
  });

  it('a comment-only edit swaps in the new locations without telling subscribers', async () => {
    const { changes, w } = await live({ 'base/routing_rules.yaml': ROUTING });
    writeFileSync(join(dir, 'base/routing_rules.yaml'), `# a new first line\n${ROUTING}`);
    await waitFor(() => w.counts.unchanged >= 1);
    expect(changes).toHaveLength(0);
    expect(w.current.locate('routing_rules.environment_routing.bug_fix.priority')).toMatchObject({ line: 4 });
  });
});

async function waitFor(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
