// `baton server` and `baton keys`: a real server process on the embedded store, keys created by
// other `baton` processes through it, and the refusals a user will meet.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baton, BIN } from './run-baton.js';

describe('baton server and baton keys', () => {
  const procs: ChildProcess[] = [];
  afterAll(() => procs.forEach((p) => p.kill('SIGKILL')));

  function serve(
    args: string[],
    command = 'server',
    ready = /Baton API on (http:\/\/[\d.]+:\d+)/,
  ): Promise<{ url: string; child: ChildProcess; stderr: () => string; stdout: () => string }> {
    const child = spawn(process.execPath, [BIN, command, '--port', '0', ...args], {
      env: { ...process.env, BATON_DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
      const t = setInterval(() => {
        const m = ready.exec(out);
        if (m) {
          clearInterval(t);
          resolve({ url: m[1]!, child, stderr: () => err, stdout: () => out });
        }
      }, 20);
    });
  }

  it('serves the API on loopback; the first key locks it; a viewer may read but not cancel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-server-'));
    const g = ['--data-dir', join(dir, 'db')];
    expect((await baton(['migrate', ...g])).code).toBe(0);
    const s = await serve(g);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${s.url}/api/executions`)).status).toBe(200);

    // Another process, through the server that holds the embedded store.
    const made = await baton(['keys', 'create', '--role', 'viewer', '--name', 'ci', ...g]);
    expect(made.code).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^bk_[0-9a-f]{16}_[\w-]{43}$/);
    expect(made.stderr).toContain('it is not shown again');

    const listed = await baton(['keys', 'list', ...g]);
    expect(listed.stdout).toMatch(/ci\s+viewer/);
    expect(listed.stdout).not.toContain(key.slice(20));

    // The server re-reads whether keys exist every 2 s.
    let status = 0;
    for (let i = 0; i < 100 && status !== 401; i++) {
      status = (await fetch(`${s.url}/api/executions`)).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    const auth = { authorization: `Bearer ${key}` };
    expect((await fetch(`${s.url}/api/executions`, { headers: auth })).status).toBe(200);
    const cancel = await fetch(`${s.url}/api/executions/x/cancel`, { method: 'POST', headers: auth });
    expect(cancel.status).toBe(403);

    const id = /^(\S+)\s+ci/m.exec(listed.stdout)![1]!;
    expect((await baton(['keys', 'revoke', id, ...g])).stdout).toContain(`revoked ${id} (viewer)`);
    // Revoked by another process: the server's cache of checked keys lasts 2 s.
    for (let i = 0; i < 100; i++) {
      status = (await fetch(`${s.url}/api/executions`, { headers: auth })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    // The key's text never reaches the log.
    expect(s.stderr()).not.toContain(key.slice(20));
  });

  it('baton dev serves the dashboard and the API from the process that holds the embedded store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-dev-'));
    const s = await serve(['--data-dir', join(dir, 'db')], 'dev', /dashboard: (http:\/\/[\d.]+:\d+)\//);
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="root"></div>');
    expect((await fetch(`${s.url}/api/me`)).status).toBe(200);
    // Other `baton` commands go through it while it holds .baton/.
    expect((await baton(['keys', 'list', '--data-dir', join(dir, 'db')])).code).toBe(0);
    const exited = new Promise<number | null>((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a bad role, an unknown key id, a bad port, and a non-loopback host with no key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-server-bad-'));
    const g = ['--data-dir', join(dir, 'db')];
    expect((await baton(['migrate', ...g])).code).toBe(0);
    const role = await baton(['keys', 'create', '--role', 'root', ...g]);
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain("'root' is not a role; use one of viewer, operator, admin");
    const malformed = await baton(['keys', 'revoke', 'nope', ...g]);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('"nope" is not an API key id: ids are 16 hex digits');
    const unknown = await baton(['keys', 'revoke', '0123456789abcdef', ...g]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("no API key has the id '0123456789abcdef'");
    const port = await baton(['server', '--port', 'eighty', ...g]);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain("--port must be an integer, got 'eighty'");
    const unset = await baton(['server', '--port', '0', '--jwt-secret-env', 'BATON_TEST_NO_SUCH_VAR', ...g]);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain(
      '--jwt-secret-env names BATON_TEST_NO_SUCH_VAR, which is not set in the environment',
    );
    const short = await baton(['server', '--port', '0', '--jwt-secret-env', 'SHORT_SECRET', ...g], {
      env: { SHORT_SECRET: 'too-short' },
    });
    expect(short.stderr).toContain('the JWT secret is 9 bytes; HS256 needs at least 32');
    // The secret never reaches the output.
    expect(short.stderr).not.toContain('too-short');
    const issuerAlone = await baton(['server', '--port', '0', '--jwt-issuer', 'https://idp.example', ...g]);
    expect(issuerAlone.stderr).toContain(
      '--jwt-issuer and --jwt-audience need --jwt-secret-env or --jwks-url',
    );
    const open = await baton(['server', '--host', '0.0.0.0', '--port', '0', ...g]);
    expect(open.code).not.toBe(0);
    expect(open.stderr).toContain('refusing to listen on 0.0.0.0 without authentication');
  });
});
