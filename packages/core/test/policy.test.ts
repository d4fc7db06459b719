// The execution policy with real child processes: the environment allowlist, roots (links
// followed), the timeout that stops a whole process group, output caps, and network denial.
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedPath, canDenyNetwork, executionPolicy, isBatonError, runUnderPolicy } from '../src/index.js';

const node = (code: string) => [process.execPath, '-e', code];

/** Whether a process runs: it exists and is not a zombie waiting for a parent to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return 'allowed';
}

describe('execution policy', () => {
  const root = mkdtempSync(join(tmpdir(), 'baton-policy-'));
  const outside = mkdtempSync(join(tmpdir(), 'baton-outside-'));
  mkdirSync(join(root, 'work'));
  symlinkSync(outside, join(root, 'escape'));
  writeFileSync(join(outside, 'secret.txt'), 'x');

  it('passes only the allowed environment, and refuses variables that load foreign code', async () => {
    process.env.BATON_TEST_SECRET = 'hunter2';
    const policy = executionPolicy({ roots: [root] });
    const run = await runUnderPolicy(policy, node('process.stdout.write(JSON.stringify(process.env))'), {
      env: { TASK_NOTE: 'hi' },
    });
    const env = JSON.parse(run.stdout) as Record<string, string>;
    expect(env.BATON_TEST_SECRET).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.TASK_NOTE).toBe('hi');
    await expect(runUnderPolicy(policy, node('1'), { env: { LD_PRELOAD: '/tmp/x.so' } })).rejects.toThrow(
      /LD_PRELOAD may not be set/,
    );
    await expect(
      runUnderPolicy(policy, node('1'), { env: { NODE_OPTIONS: '--require /tmp/x.js' } }),
    ).rejects.toThrow(/NODE_OPTIONS may not be set/);
  });

  it('runs only inside its roots, following links', async () => {
    const policy = executionPolicy({ roots: [root] });
    expect(allowedPath(policy, join(root, 'work'))).toMatch(/work$/);
    expect(refusal(() => allowedPath(policy, outside))).toMatch(
      /^E_POLICY_DENIED: .* is outside the directories this run may use/,
    );
    expect(refusal(() => allowedPath(policy, join(root, 'escape', 'secret.txt')))).toMatch(
      /^E_POLICY_DENIED/,
    );
    expect(refusal(() => allowedPath(policy, join(root, '..')))).toMatch(/^E_POLICY_DENIED/);
    // Paths that do not exist yet: a new file under a linked directory, and a dangling link, are
    // where writing through them would land: outside.
    expect(refusal(() => allowedPath(policy, join(root, 'escape', 'new', 'file.txt')))).toMatch(
      /^E_POLICY_DENIED/,
    );
    symlinkSync(join(outside, 'not-yet'), join(root, 'dangling'));
    expect(refusal(() => allowedPath(policy, join(root, 'dangling')))).toMatch(/^E_POLICY_DENIED/);
    expect(allowedPath(policy, join(root, 'work', 'new', 'file.txt'))).toMatch(/work\/new\/file\.txt$/);
    // A name that starts with two dots is not the parent directory.
    expect(allowedPath(policy, join(root, '..hidden'))).toMatch(/\.\.hidden$/);
    await expect(runUnderPolicy(policy, node('1'), { cwd: outside })).rejects.toThrow(
      /outside the directories/,
    );
    const run = await runUnderPolicy(policy, node('process.stdout.write(process.cwd())'), {
      cwd: join(root, 'work'),
    });
    expect(run.stdout).toMatch(/work$/);
  });

  it('stops the whole process group when the caller aborts', async () => {
    const policy = executionPolicy({ roots: [root] });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 200);
    const run = await runUnderPolicy(policy, ['sh', '-c', 'sleep 30 & sleep 30'], { signal: abort.signal });
    expect(run.signal).toBe('SIGTERM');
    expect(run.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops the whole process group at the timeout', async () => {
    const policy = executionPolicy({ roots: [root], timeoutMs: 300 });
    // a shell that starts a grandchild and waits: both must go
    const run = await runUnderPolicy(policy, ['sh', '-c', 'sleep 30 & echo $!; wait']);
    expect(run.timedOut).toBe(true);
    const grandchild = Number(run.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(running(grandchild)).toBe(false);
  });

  it('keeps at most maxOutputBytes of each stream and says so', async () => {
    const policy = executionPolicy({ roots: [root], maxOutputBytes: 1000 });
    const run = await runUnderPolicy(policy, node("process.stdout.write('y'.repeat(3000))"));
    expect(run.code).toBe(0);
    expect(run.stdout).toHaveLength(1000);
    expect(run.truncated).toBe(true);
  });

  it.runIf(canDenyNetwork())('with network denied, a process cannot reach even this host', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const probe = node(
      `require('http').get('http://127.0.0.1:${port}/', (r) => { process.stdout.write('reached'); r.resume(); }).on('error', (e) => process.stdout.write('blocked ' + e.code))`,
    );
    try {
      const allowed = await runUnderPolicy(executionPolicy({ roots: [root] }), probe);
      expect(allowed.stdout).toBe('reached');
      const denied = await runUnderPolicy(executionPolicy({ roots: [root], network: 'deny' }), probe);
      expect(denied.stdout).toMatch(/^blocked (ECONNREFUSED|ENETUNREACH)$/);
    } finally {
      server.close();
    }
  });

  it('refuses bad policies with the option named', () => {
    expect(refusal(() => executionPolicy({ roots: [] }))).toMatch(/at least one root/);
    expect(refusal(() => executionPolicy({ timeoutMs: 0 }))).toMatch(/timeoutMs must be a positive integer/);
    expect(refusal(() => executionPolicy({ network: 'maybe' as 'allow' }))).toMatch(
      /network must be allow or deny/,
    );
  });
});
