// The agent_permissions kind: rules load as written, and a bad rule is reported at its file:line:col.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatDiagnostic, loadConfig } from '../src/index.js';
import { configDir, removeDir } from './config-helpers.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) removeDir(dirs.pop()!);
});

describe('agent_permissions.yaml', () => {
  it('loads allow, ask and deny lists, and local/ overrides base/', async () => {
    const d = configDir({
      'base/agent_permissions.yaml':
        'allow:\n  - read_file\n  - run_command(npm test *)\ndeny:\n  - read_file(**/.env)\n',
      'local/agent_permissions.yaml': 'ask:\n  - run_command(git push *)\n',
    });
    dirs.push(d);
    const config = await loadConfig(d);
    expect(config.get('agent_permissions')).toEqual({
      allow: ['read_file', 'run_command(npm test *)'],
      ask: ['run_command(git push *)'],
      deny: ['read_file(**/.env)'],
    });
  });

  it('reports a rule that does not parse at its line and column, saying what a rule looks like', async () => {
    const d = configDir({
      'base/agent_permissions.yaml':
        'allow:\n  - read_file\n  - run command(npm test)\ndeny:\n  - edit_file()\n',
    });
    dirs.push(d);
    const err = await loadConfig(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).diagnostics.map(formatDiagnostic);
    expect(lines).toEqual([
      expect.stringMatching(
        /agent_permissions\.yaml:3:5: error \[E_CONFIG_INVALID\] agent_permissions\.allow\[1\]: permission rule 'run command\(npm test\)' in allow is not 'tool' or 'tool\(pattern\)'/,
      ),
      expect.stringMatching(
        /agent_permissions\.yaml:5:5: error .*agent_permissions\.deny\[0\]: .*empty parentheses/,
      ),
    ]);
  });
});
