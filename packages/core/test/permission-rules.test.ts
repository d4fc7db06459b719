// Permission rules: every precedence case, globs over paths, argv and tool names, and bad rules.
import { describe, expect, it } from 'vitest';
import { PermissionPolicy, parsePermissionRule, parseToolCall } from '../src/index.js';

const cmd = (line: string) => ({ tool: 'run_command', argv: line.split(' ') });

describe('permission precedence', () => {
  it('denies before asking and asks before allowing, whatever the order of the lists', () => {
    const p = new PermissionPolicy({
      allow: ['read_file', 'run_command(npm *)'],
      ask: ['run_command(npm publish *)', 'read_file(secrets/**)'],
      deny: ['read_file(**/.env)', 'run_command(npm publish --force *)'],
    });
    expect(p.decide({ tool: 'read_file', path: 'src/app.ts' })).toEqual({
      decision: 'allow',
      rule: 'allow: read_file',
    });
    expect(p.decide({ tool: 'read_file', path: 'secrets/key.pem' })).toEqual({
      decision: 'ask',
      rule: 'ask: read_file(secrets/**)',
    });
    // Under both ask (secrets/**) and deny (**/.env): deny wins.
    expect(p.decide({ tool: 'read_file', path: 'secrets/.env' })).toEqual({
      decision: 'deny',
      rule: 'deny: read_file(**/.env)',
    });
    expect(p.decide(cmd('npm test'))).toMatchObject({ decision: 'allow' });
    expect(p.decide(cmd('npm publish'))).toMatchObject({
      decision: 'ask',
      rule: 'ask: run_command(npm publish *)',
    });
    expect(p.decide(cmd('npm publish --force now'))).toMatchObject({ decision: 'deny' });
  });

  it('takes the first match within a list, and asks when nothing matches', () => {
    const p = new PermissionPolicy({ allow: ['edit_file(src/**)', 'edit_file(src/*.ts)'] });
    expect(p.decide({ tool: 'edit_file', path: 'src/a.ts' }).rule).toBe('allow: edit_file(src/**)');
    expect(p.decide({ tool: 'edit_file', path: 'test/a.ts' })).toEqual({ decision: 'ask', rule: null });
    expect(p.decide({ tool: 'write_file', path: 'src/a.ts' })).toEqual({ decision: 'ask', rule: null });
    expect(new PermissionPolicy().decide({ tool: 'read_file', path: 'x' })).toEqual({
      decision: 'ask',
      rule: null,
    });
  });
});

describe('permission globs', () => {
  it('matches commands token by token: ls never covers lsblk, a final * covers any further arguments', () => {
    const p = new PermissionPolicy({
      allow: ['run_command(ls)', 'run_command(git status *)', 'run_command(npm run test:*)'],
    });
    expect(p.decide(cmd('ls')).decision).toBe('allow');
    expect(p.decide(cmd('lsblk')).decision).toBe('ask');
    expect(p.decide(cmd('ls -la')).decision).toBe('ask');
    expect(p.decide(cmd('git status')).decision).toBe('allow');
    expect(p.decide(cmd('git status --short')).decision).toBe('allow');
    expect(p.decide(cmd('git stash')).decision).toBe('ask');
    expect(p.decide(cmd('npm run test:unit')).decision).toBe('allow');
    expect(p.decide(cmd('npm run test:unit extra')).decision).toBe('ask');
  });

  it('matches paths with * inside one directory, ** across directories and {a,b}', () => {
    const p = new PermissionPolicy({
      allow: ['read_file(src/*.ts)', 'read_file(docs/**)', 'read_file(**/*.{md,txt})'],
    });
    expect(p.decide({ tool: 'read_file', path: 'src/a.ts' }).decision).toBe('allow');
    expect(p.decide({ tool: 'read_file', path: 'src/deep/a.ts' }).decision).toBe('ask');
    expect(p.decide({ tool: 'read_file', path: 'docs/a/b/c.png' }).decision).toBe('allow');
    expect(p.decide({ tool: 'read_file', path: 'README.md' }).decision).toBe('allow');
    expect(p.decide({ tool: 'read_file', path: 'a/b/notes.txt' }).decision).toBe('allow');
    expect(p.decide({ tool: 'read_file', path: './src/b.ts' }).decision).toBe('allow');
    const env = new PermissionPolicy({ deny: ['read_file(**/.env)'] });
    expect(env.decide({ tool: 'read_file', path: '.env' }).decision).toBe('deny');
    expect(env.decide({ tool: 'read_file', path: 'a/b/.env' }).decision).toBe('deny');
    expect(env.decide({ tool: 'read_file', path: 'a/.env.example' }).decision).toBe('ask');
  });

  it('matches tool names with globs (MCP tools), and a pattern never matches a call with nothing to match', () => {
    const p = new PermissionPolicy({
      allow: ['mcp:everything:*'],
      deny: ['mcp:*:delete*', 'fetch(https://evil.*)'],
    });
    expect(p.decide({ tool: 'mcp:everything:echo' }).decision).toBe('allow');
    expect(p.decide({ tool: 'mcp:everything:deleteAll' }).decision).toBe('deny');
    expect(p.decide({ tool: 'mcp:other:echo' }).decision).toBe('ask');
    expect(p.decide({ tool: 'fetch', text: 'https://evil.example/x' }).decision).toBe('deny');
    expect(p.decide({ tool: 'fetch' }).decision).toBe('ask');
  });
});

describe('bad rules and calls', () => {
  it('says what is wrong with a rule', () => {
    expect(() => parsePermissionRule('read file(x)', 'allow')).toThrow(/not 'tool' or 'tool\(pattern\)'/);
    expect(() => parsePermissionRule('read_file()', 'deny')).toThrow(/empty parentheses/);
    expect(() => parsePermissionRule('read_file(src/{a,b)', 'ask')).toThrow(/has no closing '}'/);
    expect(() => new PermissionPolicy({ allow: ['ok', 'bad rule'] })).toThrow(/'bad rule' in allow/);
  });

  it('parses a call the way baton policy check takes it', () => {
    const files = new Set(['read_file']);
    const commands = new Set(['run_command']);
    expect(parseToolCall('run_command(npm  test --watch)', files, commands)).toEqual({
      tool: 'run_command',
      argv: ['npm', 'test', '--watch'],
    });
    expect(parseToolCall('read_file(src/a.ts)', files, commands)).toEqual({
      tool: 'read_file',
      path: 'src/a.ts',
    });
    expect(parseToolCall('mcp:x:y', files, commands)).toEqual({ tool: 'mcp:x:y' });
    expect(() => parseToolCall('read_file(a', files, commands)).toThrow(/is not a tool call/);
    expect(() => parseToolCall('read_*', files, commands)).toThrow(/is not a tool call/);
  });
});
