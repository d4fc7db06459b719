// Project memory: AGENTS.md, CLAUDE.md and GEMINI.md in the project directory and above, up to the
// git work tree's top, outermost first; a big file cut and marked; the system prompt they make.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectMemory, withProjectMemory } from '../src/index.js';

describe('project memory', () => {
  it('reads the instruction files from the git top down to the project, and no further up', () => {
    const outside = mkdtempSync(join(tmpdir(), 'baton-memory-'));
    writeFileSync(join(outside, 'AGENTS.md'), 'above the repository: not read');
    const top = join(outside, 'repo');
    const root = join(top, 'packages', 'app');
    mkdirSync(join(top, '.git'), { recursive: true });
    mkdirSync(root, { recursive: true });
    writeFileSync(join(top, 'AGENTS.md'), 'Use tabs.');
    writeFileSync(join(top, 'CLAUDE.md'), 'Run npm test before finishing.');
    writeFileSync(join(root, 'AGENTS.md'), 'Use spaces in this package.');
    writeFileSync(join(root, 'GEMINI.md'), 'x'.repeat(40_000));
    const files = projectMemory(root);
    expect(files.map((f) => f.path)).toEqual([
      '../../AGENTS.md',
      '../../CLAUDE.md',
      'AGENTS.md',
      'GEMINI.md',
    ]);
    expect(files[3]).toMatchObject({ truncated: true });
    expect(files[3]!.text).toHaveLength(32 * 1024);

    const system = withProjectMemory('You are a coder.', files.slice(0, 3));
    expect(system).toMatch(/^You are a coder\.\n\n/);
    expect(system).toContain('<instructions file="../../AGENTS.md">\nUse tabs.\n</instructions>');
    expect(system.indexOf('Use tabs.')).toBeLessThan(system.indexOf('Use spaces in this package.'));
    expect(system).not.toContain('not read');
    expect(withProjectMemory('You are a coder.', [])).toBe('You are a coder.');
  });
});
