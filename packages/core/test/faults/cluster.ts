// The fault suite's worker processes: started, killed, paused, resumed and replaced.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface WorkerProc {
  child: ChildProcess;
  pid: number;
  /** The worker id it printed when ready. */
  id: string;
  paused: boolean;
  exited: Promise<number | null>;
  alive: boolean;
  /** The signal that ended the process, if one did. */
  exitSignal: NodeJS.Signals | null;
  /** Set when the orchestrator itself sent the SIGKILL (an armed kill is the process's own). */
  killedByUs: boolean;
  /** The armed fault the process carries (kill-mid-claim, kill-after-effect), if any. */
  armed: string | undefined;
}

export interface ClusterOptions {
  url: string;
  size: number;
  leaseMs: number;
  concurrency: number;
  /** Every worker's stderr (its warnings) is appended here. */
  logFile: string;
}

/** A pool of real worker processes on one database, kept at `size` by `replenish()`. */
export class Cluster {
  readonly procs: WorkerProc[] = [];
  private readonly logFd: number;

  constructor(private readonly o: ClusterOptions) {
    this.logFd = openSync(o.logFile, 'a');
  }

  live(): WorkerProc[] {
    return this.procs.filter((p) => p.alive);
  }

  /** Starts a worker and resolves once it says it is ready (or rejects if it dies first). */
  start(env: Record<string, string> = {}): Promise<WorkerProc> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: {
        ...process.env,
        BATON_DATABASE_URL: this.o.url,
        LEASE_MS: String(this.o.leaseMs),
        CONCURRENCY: String(this.o.concurrency),
        ...env,
      },
      stdio: ['ignore', 'pipe', this.logFd],
    });
    const p: WorkerProc = {
      child,
      pid: child.pid!,
      id: '',
      paused: false,
      alive: true,
      exitSignal: null,
      killedByUs: false,
      armed: undefined,
      exited: new Promise((r) =>
        child.on('exit', (code, signal) => {
          p.alive = false;
          p.exitSignal = signal;
          r(code);
        }),
      ),
    };
    this.procs.push(p);
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`worker ${p.pid} not ready after 60 s`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\S+)/.exec(out);
        if (m && !p.id) {
          p.id = m[1];
          clearTimeout(timer);
          resolve(p);
        }
      });
      void p.exited.then((code) => {
        clearTimeout(timer);
        if (!p.id) reject(new Error(`worker ${p.pid} exited with ${code} before it was ready`));
      });
    });
  }

  /** Starts workers until `size` are alive. A worker that cannot start (the database is down) is retried. */
  async replenish(): Promise<void> {
    while (this.live().length < this.o.size) {
      try {
        await this.start();
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Resumes every paused worker. */
  resumeAll(): void {
    for (const p of this.live()) if (p.paused) this.resume(p);
  }

  pause(p: WorkerProc): void {
    p.paused = true;
    p.child.kill('SIGSTOP');
  }

  resume(p: WorkerProc): void {
    p.paused = false;
    p.child.kill('SIGCONT');
  }

  async kill(p: WorkerProc): Promise<void> {
    p.killedByUs = true;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** Graceful stop of every live worker, then SIGKILL for any that does not exit in time. */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    this.resumeAll();
    const live = this.live();
    for (const p of live) p.child.kill('SIGTERM');
    const deadline = new Promise((r) => setTimeout(r, timeoutMs));
    await Promise.race([Promise.all(live.map((p) => p.exited)), deadline]);
    for (const p of this.live()) await this.kill(p);
  }

  close(): void {
    closeSync(this.logFd);
  }
}
