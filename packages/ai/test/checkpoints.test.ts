// Checkpoints and undo on a real directory and an in-memory store: contents kept once by sha256,
// the first checkpoint of a re-run call kept, undo of one or several turns (edited files restored,
// created files removed, a file changed twice back to its first state), the quota dropping the
// oldest first, and paths that would leave the project refused.
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoints } from '../src/index.js';
import { sharedStore } from './shared-store.js';

const ref = sharedStore();

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'baton-checkpoints-'));
  for (const [p, text] of Object.entries(files)) writeFileSync(join(root, p), text);
  return root;
}

describe('checkpoints', () => {
  it('undoes the last turn, then the ones before, restoring edits and removing created files', async () => {
    const root = project({ 'a.txt': 'a0', 'b.txt': 'b0' });
    const cp = new Checkpoints(ref.store.driver);
    const site = (turn: number, call: string, path: string) => ({
      project: root,
      session: 's1',
      turn,
      toolCallId: call,
      path,
    });
    // turn 1: a.txt edited twice; turn 2: b.txt edited, c.txt created
    await cp.keep(site(1, 'c1', 'a.txt'));
    writeFileSync(join(root, 'a.txt'), 'a1');
    await cp.keep(site(1, 'c2', 'a.txt'));
    writeFileSync(join(root, 'a.txt'), 'a2');
    await cp.keep(site(2, 'c3', 'b.txt'));
    writeFileSync(join(root, 'b.txt'), 'b1');
    await cp.keep(site(2, 'c4', 'c.txt'));
    writeFileSync(join(root, 'c.txt'), 'new');
    // A call run again after a crash keeps its first checkpoint (the original content).
    await cp.keep(site(2, 'c3', 'b.txt'));

    expect(await cp.undo('s1', root)).toEqual({
      turns: [2],
      files: [
        { path: 'c.txt', action: 'removed' },
        { path: 'b.txt', action: 'restored' },
      ],
    });
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe('b0');
    expect(existsSync(join(root, 'c.txt'))).toBe(false);
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('a2');
    expect(await cp.undo('s1', root)).toEqual({ turns: [1], files: [{ path: 'a.txt', action: 'restored' }] });
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('a0');
    await expect(cp.undo('s1', root)).rejects.toThrow(/has no changes to undo/);
    expect(await cp.usage(root)).toEqual({ checkpoints: 0, bytes: 0 });
  });

  it('undoes several turns at once, and stores a content kept many times once', async () => {
    const root = project({ 'x.txt': 'same' });
    const cp = new Checkpoints(ref.store.driver);
    for (let t = 1; t <= 3; t++) {
      await cp.keep({ project: root, session: 's2', turn: t, toolCallId: `k${t}`, path: 'x.txt' });
      writeFileSync(join(root, 'x.txt'), t === 3 ? 'changed' : 'same');
    }
    expect(await cp.usage(root)).toEqual({ checkpoints: 3, bytes: 4 });
    // Turns 3 and 2 both kept x.txt: it goes back to its state before turn 2, listed once.
    expect(await cp.undo('s2', root, 2)).toEqual({
      turns: [3, 2],
      files: [{ path: 'x.txt', action: 'restored' }],
    });
    expect(readFileSync(join(root, 'x.txt'), 'utf8')).toBe('same');
    await expect(cp.undo('s2', root, 0)).rejects.toThrow(/at least 1/);
  });

  it('keeps a project within its quota, dropping the oldest checkpoints first', async () => {
    const root = project({
      'big1.txt': 'x'.repeat(600),
      'big2.txt': 'y'.repeat(600),
      'big3.txt': 'z'.repeat(600),
    });
    const cp = new Checkpoints(ref.store.driver, 1300);
    for (const [i, f] of ['big1.txt', 'big2.txt', 'big3.txt'].entries())
      await cp.keep({ project: root, session: 's3', turn: i + 1, toolCallId: `q${i}`, path: f });
    // 1,800 bytes kept would pass 1,300: the oldest (big1) went.
    expect(await cp.usage(root)).toEqual({ checkpoints: 2, bytes: 1200 });
    expect(await cp.bound(root, 700)).toEqual({ dropped: 1, freed: 600 });
    expect(await cp.usage(root)).toEqual({ checkpoints: 1, bytes: 600 });
  });

  it('refuses a path that would leave the project', async () => {
    const root = project({});
    const cp = new Checkpoints(ref.store.driver);
    await expect(
      cp.keep({ project: root, session: 's4', turn: 1, toolCallId: 'z', path: '../outside.txt' }),
    ).rejects.toThrow(/outside the project/);
  });
});
