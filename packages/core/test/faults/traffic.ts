// The fault suite's load: jobs enqueued in bulk and one by one, workflows started, signalled and
// cancelled, all through the public Client, and remembered so the checks know what to expect.
import { isBatonError, type Client } from '../../src/index.js';
import { isConnectionError } from '../../src/driver/postgres.js';
import { blocker, doomed, kickoff, kickoffOrderId, order, work, type WorkInput } from './load.js';

/**
 * Retries `fn` while the database is unreachable (restarts, killed connections). Only calls that
 * are safe to repeat go through here: enqueues with idempotency keys, starts with ids, signals with
 * idempotency keys, cancels.
 */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConnectionError(err) || attempt > 200) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** Math.min(attempt, 6))));
    }
  }
}

export interface TrackedJob {
  expect: 'completed' | 'failed';
  cancelRequested: boolean;
  /** A kickoff job: it starts this workflow, so cancelling it would make the workflow never exist. */
  starts?: string;
}

export interface TrackedOrder {
  signals: number;
  /** Signals whose send was acknowledged; payloads are 0, 1, 2, … in order. */
  acked: number;
  sending: boolean;
  cancelRequested: boolean;
  /** Set when a send was refused because the workflow had already ended (after a cancel). */
  ended: boolean;
  startedAt: number;
  /** Started by a kickoff job inside a worker process: it exists only once that job has run. */
  viaKickoff: boolean;
}

/** Concurrency keys the keyed jobs share (limit 1 each). */
export const KEYS = 6;

export class Traffic {
  readonly jobs = new Map<string, TrackedJob>();
  readonly orders = new Map<string, TrackedOrder>();
  readonly blockers = new Set<string>();
  private n = 0;

  constructor(
    private readonly client: Client,
    private readonly rng: () => number,
  ) {}

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  /** Enqueues `count` work jobs in one round trip (a mix of plain, failing-then-retried, keyed and limited-queue jobs) plus a doomed one. */
  async enqueueBulk(count: number): Promise<void> {
    const items = Array.from({ length: count }, () => {
      const key = `fault-${this.n++}`;
      const r = this.rng();
      const input: WorkInput = { ms: this.int(0, 15) };
      if (this.rng() < 0.1) input.failBelow = this.int(2, 3);
      if (r < 0.15) {
        input.key = `key-${this.int(0, KEYS - 1)}`;
        return { input, options: { idempotencyKey: key, concurrencyKey: input.key } };
      }
      if (r < 0.25) return { input, options: { idempotencyKey: key, queue: 'limited' } };
      return { input, options: { idempotencyKey: key } };
    });
    const out = await retrying(() => this.client.enqueueMany(work, items));
    for (const o of out) this.jobs.set(o.id, { expect: 'completed', cancelRequested: false });
    const d = await retrying(() =>
      this.client.enqueue(doomed, null, { idempotencyKey: `fault-${this.n++}` }),
    );
    this.jobs.set(d.id, { expect: 'failed', cancelRequested: false });
  }

  /** Enqueues one job with a single INSERT, as an application would. */
  async enqueueOne(): Promise<void> {
    const key = `fault-${this.n++}`;
    const { id } = await retrying(() =>
      this.client.enqueue(work, { ms: this.int(0, 30) }, { idempotencyKey: key }),
    );
    this.jobs.set(id, { expect: 'completed', cancelRequested: false });
  }

  /**
   * Starts an order workflow: from here, through the queue, or (three in ten) through a kickoff
   * job that starts it inside a worker process, where the worker runs it at once.
   */
  async startOrder(): Promise<void> {
    const input = {
      amount: this.int(1, 500),
      signals: this.int(0, 3),
      sleepMs: this.int(20, 1500),
      child: this.rng() < 0.5,
    };
    let id: string;
    const viaKickoff = this.rng() < 0.3;
    if (viaKickoff) {
      const job = await retrying(() =>
        this.client.enqueue(kickoff, input, { idempotencyKey: `fault-${this.n++}` }),
      );
      id = kickoffOrderId(job.id);
      this.jobs.set(job.id, { expect: 'completed', cancelRequested: false, starts: id });
    } else {
      id = `order-${this.n++}`;
      await retrying(() => this.client.start(order, input, { id }));
    }
    this.orders.set(id, {
      signals: input.signals,
      acked: 0,
      sending: false,
      cancelRequested: false,
      ended: false,
      startedAt: Date.now(),
      viaKickoff,
    });
  }

  /** Starts a workflow whose first step blocks its worker past its lease. */
  async startBlocker(blockMs: number): Promise<string> {
    const id = `blocker-${this.n++}`;
    await retrying(() => this.client.start(blocker, { blockMs }, { id }));
    this.blockers.add(id);
    return id;
  }

  private pendingSignals(o: TrackedOrder): boolean {
    return !o.ended && !o.sending && o.acked < o.signals;
  }

  /**
   * Sends the next signal of one workflow; signals of one workflow go one at a time, in order.
   * Returns false when the workflow does not exist yet (its kickoff job has not run).
   */
  async sendNextSignal(id: string): Promise<boolean> {
    const o = this.orders.get(id)!;
    if (!this.pendingSignals(o)) return false;
    o.sending = true;
    try {
      const k = o.acked;
      await retrying(() =>
        this.client.signal(id, 'approve', { n: k }, { idempotencyKey: `${id}:approve:${k}` }),
      );
      o.acked = k + 1;
      return true;
    } catch (err) {
      if (isBatonError(err, 'E_NOT_FOUND') && o.viaKickoff) return false;
      // Only a cancelled workflow may have ended before taking all its signals.
      if (isBatonError(err, 'E_INVALID_STATE') && o.cancelRequested) {
        o.ended = true;
        return false;
      }
      throw err;
    } finally {
      o.sending = false;
    }
  }

  /** Sends some due signals: to workflows started at least `minAgeMs` ago, each with probability `p`. */
  async trickleSignals(p: number, minAgeMs: number): Promise<void> {
    const now = Date.now();
    const due = [...this.orders]
      .filter(([, o]) => this.pendingSignals(o) && now - o.startedAt >= minAgeMs && this.rng() < p)
      .map(([id]) => id);
    await Promise.all(due.map((id) => this.sendNextSignal(id)));
  }

  /** A burst: every remaining signal of up to `count` workflows, the workflows concurrently. Returns how many were sent. */
  async burstSignals(count: number): Promise<number> {
    const ids = [...this.orders].filter(([, o]) => this.pendingSignals(o)).map(([id]) => id);
    const chosen = this.pick(ids, count);
    let sent = 0;
    await Promise.all(
      chosen.map(async (id) => {
        const o = this.orders.get(id)!;
        const giveUp = Date.now() + 60_000;
        while (this.pendingSignals(o) && Date.now() < giveUp) {
          if (await this.sendNextSignal(id)) sent++;
          else await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    return sent;
  }

  /** Sends every signal still owed, so every workflow can finish. */
  async sendAllSignals(): Promise<void> {
    await this.burstSignals(Infinity);
  }

  /** A burst of cancellations: `orders` workflows and `jobs` jobs at once. Returns how many were asked. */
  async burstCancels(orders: number, jobs: number): Promise<number> {
    const wf = this.pick(
      [...this.orders].filter(([, o]) => !o.cancelRequested).map(([id]) => id),
      orders,
    );
    const jb = this.pick(
      [...this.jobs]
        .filter(([, j]) => !j.cancelRequested && j.expect === 'completed' && !j.starts)
        .map(([id]) => id),
      jobs,
    );
    for (const id of wf) this.orders.get(id)!.cancelRequested = true;
    for (const id of jb) this.jobs.get(id)!.cancelRequested = true;
    await Promise.all(
      [...wf, ...jb].map(async (id) => {
        try {
          await retrying(() => this.client.cancel(id));
        } catch (err) {
          // Already finished: the cancel came too late, which is allowed; a kickoff's workflow
          // that does not exist yet is not cancelled at all.
          if (!isBatonError(err, 'E_INVALID_STATE') && !isBatonError(err, 'E_NOT_FOUND')) throw err;
        }
      }),
    );
    return wf.length + jb.length;
  }

  private pick<T>(items: T[], count: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, count);
  }
}
