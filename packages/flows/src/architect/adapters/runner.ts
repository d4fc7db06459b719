// Runs a session: registers it, heartbeats, takes the tasks assigned to it (up to its capacity at
// once), hands each to an executor (a command, a tmux agent) and reports the outcome. On stop it
// takes no new task, lets the running ones finish, and deregisters.
import { isBatonError, toStorableText, type Logger } from '@baton/core';
import type { Architect } from '../architect.js';
import type { HeartbeatReport, RegisterOptions, SessionLease } from '../sessions.js';
import type { TaskView } from '../store/view.js';

export type ExecutorOutcome =
  { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error: string };

/** How a session does a task. */
export interface TaskExecutor {
  /**
   * Does the task. `report` tells the registry at once what the session is doing (a tmux agent
   * waiting on an approval prompt); later heartbeats repeat it.
   */
  run(task: TaskView, report: (r: HeartbeatReport) => void): Promise<ExecutorOutcome>;
  close?(): Promise<void>;
}

export interface RunSessionOptions {
  readonly session: RegisterOptions;
  readonly executor: TaskExecutor;
  /** Stops the session gracefully: no new task, running ones finish. */
  readonly signal: AbortSignal;
  /** Default: a third of the stale threshold, at most 10 s. */
  readonly heartbeatMs?: number;
  readonly log: Logger;
  /** Called as tasks start and end (the CLI prints them). */
  readonly onTask?: (event: 'started' | 'completed' | 'failed', task: TaskView, detail?: string) => void;
}

/** Runs until `signal` aborts (or the session is taken away); resolves once deregistered. */
export async function runSession(architect: Architect, options: RunSessionOptions): Promise<void> {
  const { sessions } = architect;
  const lease = await sessions.register(options.session);
  const lost = new AbortController();
  const stop = AbortSignal.any([options.signal, lost.signal]);
  const beatMs = options.heartbeatMs ?? Math.min(10_000, sessions.staleAfterMs() / 3);
  let current: HeartbeatReport = {};
  const beat = (): void => {
    sessions.heartbeat(lease, current).catch((err: unknown) => {
      if (isBatonError(err, 'E_INVALID_STATE')) {
        options.log.error({ session: lease.name }, (err as Error).message);
        lost.abort();
      } else options.log.warn({ err }, 'heartbeat failed; trying again');
    });
  };
  const report = (r: HeartbeatReport): void => {
    current = r;
    beat();
  };
  const timer = setInterval(beat, beatMs);
  const capacity = options.session.capacity ?? 1;
  try {
    await Promise.all(Array.from({ length: capacity }, () => slot(architect, lease, stop, options, report)));
  } finally {
    clearInterval(timer);
    await options.executor.close?.();
    if (!lost.signal.aborted) await sessions.deregister(lease);
  }
}

/** One task at a time, until stopped. */
async function slot(
  architect: Architect,
  lease: SessionLease,
  stop: AbortSignal,
  options: RunSessionOptions,
  report: (r: HeartbeatReport) => void,
): Promise<void> {
  while (!stop.aborted) {
    let task: TaskView | null;
    try {
      task = await architect.sessions.waitForTask(lease, { signal: stop });
    } catch (err) {
      if (isBatonError(err, 'E_INVALID_STATE')) return;
      options.log.warn({ err }, 'could not take a task; trying again');
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    if (!task) return;
    options.onTask?.('started', task);
    const outcome = await options.executor
      .run(task, report)
      .catch((err: unknown): ExecutorOutcome => ({ ok: false, error: (err as Error).message }));
    try {
      // An agent's output is recorded as it came, a NUL byte as U+FFFD: refused, the work would be lost.
      if (outcome.ok) {
        const done = await architect.sessions.complete(lease, task.id, toStorableText(outcome.output));
        options.onTask?.('completed', done);
      } else {
        const failed = await architect.sessions.fail(lease, task.id, toStorableText(outcome.error));
        options.onTask?.('failed', failed, outcome.error);
      }
    } catch (err) {
      // the task was taken away meanwhile (timed out, reassigned, session gone stale): its new holder reports
      options.log.warn({ task: task.id }, `outcome not recorded: ${(err as Error).message}`);
    }
  }
}
