// One change feed for every client of this server: each change becomes an event with an id, is kept
// in a bounded window for clients that reconnect with Last-Event-ID, and goes to the subscribers
// whose filter it passes. The feed runs while anyone subscribes, and a little after (a dashboard
// reloading should not toggle the database's triggers).
import { randomBytes } from 'node:crypto';
import type { ExecutionChange } from '@baton/core';
import type { ArchitectChange } from '@baton/flows';

/** A change the hub carries: an execution's, or the Architect's (task, session, alert). */
export type Change = ({ type: 'execution' } & ExecutionChange) | ArchitectChange;
export const CHANGE_TYPES = ['execution', 'task', 'session', 'alert'] as const;

export type ChangeEvent = Change & {
  /** When this server received the change (ISO 8601). */
  at: string;
};

export interface FeedEvent {
  /** `<epoch>-<seq>`: the epoch changes whenever events may have been missed, so old ids cannot resume. */
  id: string;
  seq: number;
  data: ChangeEvent;
}

/**
 * What a subscriber wants; an absent field lets everything through. `kind`, `status`, `queue` and
 * `name` are the executions' fields: given any of them without `types`, only executions pass.
 */
export interface EventFilter {
  types?: ReadonlySet<string>;
  kind?: ReadonlySet<string>;
  status?: ReadonlySet<string>;
  queue?: ReadonlySet<string>;
  name?: ReadonlySet<string>;
}

export interface Subscriber {
  filter: EventFilter;
  /** Events in order. */
  deliver(events: FeedEvent[]): void;
  /** Events were missed (or cannot be replayed): the client should reload what it shows. */
  reset(reason: string): void;
}

/** The source of changes: @baton/core's ChangeFeed. */
export interface ChangeSource {
  start(onChanges: (changes: Change[]) => void, onGap: () => void): Promise<void>;
  stop(): Promise<void>;
}

export interface EventHubOptions {
  /** Events kept for replay. Default 10,000. */
  window?: number;
  /** How long the feed stays on after the last subscriber leaves. Default 30 s. */
  lingerMs?: number;
}

export function passes(filter: EventFilter, e: Change): boolean {
  const onExecutions = Boolean(filter.kind || filter.status || filter.queue || filter.name);
  if (filter.types ? !filter.types.has(e.type) : onExecutions && e.type !== 'execution') return false;
  if (e.type !== 'execution') return true;
  return (
    (!filter.kind || filter.kind.has(e.kind)) &&
    (!filter.status || filter.status.has(e.status)) &&
    (!filter.queue || filter.queue.has(e.queue)) &&
    (!filter.name || filter.name.has(e.name))
  );
}

export class EventHub {
  private epoch = newEpoch();
  private seq = 0;
  /** The replay window, oldest first. */
  private ring: FeedEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private starting: Promise<void> | undefined;
  /** The last stop, which a new start waits for: a start and a stop never overlap. */
  private stopped: Promise<void> = Promise.resolve();
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly window: number;
  private readonly lingerMs: number;

  constructor(
    private readonly source: ChangeSource,
    options: EventHubOptions = {},
  ) {
    this.window = options.window ?? 10_000;
    this.lingerMs = options.lingerMs ?? 30_000;
  }

  /** The id of the newest event (or of the start of this epoch): where a new client resumes from. */
  get lastId(): string {
    return `${this.epoch}-${this.seq}`;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Adds a subscriber once the feed runs, after replaying what it missed since `lastEventId`.
   * Returns the function that removes it.
   */
  async subscribe(sub: Subscriber, lastEventId?: string): Promise<() => void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.subscribers.add(sub);
    try {
      await this.ensureStarted();
    } catch (err) {
      this.subscribers.delete(sub);
      throw err;
    }
    if (lastEventId !== undefined) this.replay(sub, lastEventId);
    return () => this.unsubscribe(sub);
  }

  /** Stops the feed now. */
  async close(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.subscribers.clear();
    await this.stopFeed();
  }

  private replay(sub: Subscriber, lastEventId: string): void {
    const m = /^([a-z0-9]+)-(\d+)$/.exec(lastEventId);
    const first = this.ring[0]?.seq ?? this.seq + 1;
    if (!m || m[1] !== this.epoch || Number(m[2]) > this.seq || Number(m[2]) < first - 1) {
      sub.reset(
        m && m[1] === this.epoch
          ? 'the events after Last-Event-ID are no longer kept'
          : 'Last-Event-ID is from another run of the server, or events were missed since',
      );
      return;
    }
    const after = Number(m[2]);
    const missed = this.ring.filter((e) => e.seq > after && passes(sub.filter, e.data));
    if (missed.length) sub.deliver(missed);
  }

  private unsubscribe(sub: Subscriber): void {
    if (!this.subscribers.delete(sub) || this.subscribers.size) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      if (!this.subscribers.size) void this.stopFeed();
    }, this.lingerMs);
    this.lingerTimer.unref?.();
  }

  private ensureStarted(): Promise<void> {
    this.starting ??= this.stopped
      .then(() =>
        this.source.start(
          (changes) => this.publish(changes),
          () => this.gap('the server missed changes (its registration lapsed)'),
        ),
      )
      .catch((err: unknown) => {
        this.starting = undefined;
        throw err;
      });
    return this.starting;
  }

  private stopFeed(): Promise<void> {
    if (!this.starting) return this.stopped;
    const started = this.starting;
    this.starting = undefined;
    // Whatever happens while nobody listens is not recorded: ids from before cannot resume.
    this.newEpoch();
    this.stopped = started.then(() => this.source.stop()).catch(() => undefined);
    return this.stopped;
  }

  private publish(changes: Change[]): void {
    const at = new Date().toISOString();
    const events = changes.map((c) => {
      this.seq += 1;
      return { id: `${this.epoch}-${this.seq}`, seq: this.seq, data: { ...c, at } };
    });
    this.ring.push(...events);
    if (this.ring.length > this.window) this.ring.splice(0, this.ring.length - this.window);
    for (const sub of this.subscribers) {
      const mine = events.filter((e) => passes(sub.filter, e.data));
      if (mine.length) sub.deliver(mine);
    }
  }

  private gap(reason: string): void {
    this.newEpoch();
    for (const sub of this.subscribers) sub.reset(reason);
  }

  private newEpoch(): void {
    this.epoch = newEpoch();
    this.seq = 0;
    this.ring = [];
  }
}

function newEpoch(): string {
  return randomBytes(5).toString('hex');
}
