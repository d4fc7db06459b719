// Real worker processes for crash tests (fixtures/worker-process.ts under tsx).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));

export interface Proc {
  child: ChildProcess;
  id: string;
  exited: Promise<number | null>;
}

export function startWorker(url: string, env: Record<string, string> = {}): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: { ...process.env, BATON_DATABASE_URL: url, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve({ child, id: m[1], exited });
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready: ${out}`)));
  });
}
