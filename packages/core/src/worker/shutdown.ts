// A graceful stop, in the order that loses nothing: stop claiming, give back what was claimed but
// not started, let running handlers finish until the deadline, abort the rest and give them back
// without counting the attempt, write every completion, then unregister.
import { BatonError } from '../errors.js';
import { sleep, type Lifecycle } from './lifecycle.js';
import type { Claimer } from './claimer.js';
import type { Dispatcher } from './dispatcher.js';
import type { Heartbeat } from './heartbeat.js';
import type { OutcomeWriter } from './outcomes.js';

export interface StoppingWorker {
  readonly id: string;
  readonly life: Lifecycle;
  readonly claimer: Claimer;
  readonly dispatcher: Dispatcher;
  readonly outcomes: OutcomeWriter;
  readonly heartbeat: Heartbeat;
  /** Stops hearing NOTIFY and withdraws from the store's local runners. */
  detach(): Promise<void>;
}

export async function shutDown(w: StoppingWorker, deadlineMs: number): Promise<void> {
  w.life.phase = 'stopping';
  w.life.clearIntervals();
  await w.detach();
  await w.claimer.stop();
  await w.outcomes.release(w.claimer.takeAll().map((r) => r.id));
  const deadline = Date.now() + deadlineMs;
  while (w.dispatcher.size > 0 && Date.now() < deadline) await sleep(10);
  w.dispatcher.abortAll(
    'shutdown',
    () => new BatonError('E_WORKER_STOPPED', `worker ${w.id} is shutting down`),
  );
  while (w.dispatcher.size > 0) await sleep(5);
  await w.outcomes.drain();
  // A last beat writes progress reported since the previous one.
  await w.heartbeat.beat().catch(() => undefined);
  await w.heartbeat.unregister();
  w.life.phase = 'stopped';
}
