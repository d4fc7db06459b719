// The change feed: executions inserted or changing status, as the database announces them on
// `baton_events` (migration 0010). Its triggers cost CPU on every claim and completion, so they exist
// only while some process serves the feed: each registers in baton.feed_listeners and creates them;
// the last to leave drops them. A process that died without leaving is dropped by the next one
// to start, stop or beat after its heartbeat went stale. See docs/decisions/0021.
import { BatonError } from './errors.js';
import type { Driver, Queryable } from './driver/types.js';
import type { Logger } from './logger.js';
import { newId } from './ids.js';
import {
  EXECUTION_KINDS,
  EXECUTION_STATUSES,
  type ExecutionKind,
  type ExecutionStatus,
} from './execution.js';

export const CHANGES_CHANNEL = 'baton_events';

/** One execution that was inserted or whose status changed. */
export interface ExecutionChange {
  id: string;
  status: ExecutionStatus;
  kind: ExecutionKind;
  queue: string;
  name: string;
}

export interface ChangeFeedOptions {
  /** How often a listener renews its registration. Default 10 s. */
  heartbeatMs?: number;
  /** A registration older than this belongs to a dead process. Default 60 s. */
  staleMs?: number;
  /**
   * More triggers that feed changes while anyone listens (a component's tables: the Architect's
   * tasks, sessions and alerts). Their names end in `_feed`.
   */
  triggers?: readonly FeedTrigger[];
}

/** A trigger created while the feed is on and dropped when it goes off. */
export interface FeedTrigger {
  /** Ends in `_feed`: the last listener to leave drops every such trigger in the baton schema. */
  name: string;
  /** The table, in the baton schema. */
  table: string;
  /** Everything after `CREATE OR REPLACE TRIGGER <name>`: `AFTER UPDATE ON baton.t REFERENCING … EXECUTE FUNCTION …`. */
  definition: string;
}

/** The executions' triggers, created while anyone listens (the function they call is migrations 0010 and 0011's). */
const EXECUTION_TRIGGERS: readonly FeedTrigger[] = [
  {
    name: 'executions_inserted_feed',
    table: 'executions',
    definition: `AFTER INSERT ON baton.executions REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION baton.publish_execution_changes()`,
  },
  {
    name: 'executions_updated_feed',
    table: 'executions',
    definition: `AFTER UPDATE ON baton.executions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION baton.publish_execution_changes()`,
  },
  {
    // A job its completion removed (a worker's removeOnComplete) is reported as completed.
    name: 'executions_removed_feed',
    table: 'executions',
    definition: `AFTER DELETE ON baton.executions REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION baton.publish_execution_changes()`,
  },
];

/** Parses one NOTIFY payload: a JSON array [id, status, kind, queue, name] per line; others are skipped. */
export function parseChanges(payload: string): ExecutionChange[] {
  const changes: ExecutionChange[] = [];
  for (const line of payload.split('\n')) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(v) || v.length !== 5 || !v.every((x) => typeof x === 'string')) continue;
    const [id, status, kind, queue, name] = v as string[];
    if (
      (EXECUTION_STATUSES as readonly string[]).includes(status!) &&
      (EXECUTION_KINDS as readonly string[]).includes(kind!)
    )
      changes.push({
        id: id!,
        status: status as ExecutionStatus,
        kind: kind as ExecutionKind,
        queue: queue!,
        name: name!,
      });
  }
  return changes;
}

/**
 * Runs `change` on the registrations, then creates or drops the feed's triggers to match them, in one
 * transaction under a lock taken first: two processes starting or stopping at once queue rather than
 * deadlock, and their trigger changes never cross.
 */
function underLock(
  driver: Driver,
  staleMs: number,
  triggers: readonly FeedTrigger[],
  change: (tx: Queryable) => Promise<unknown>,
): Promise<void> {
  return driver.transaction(async (tx) => {
    await tx.query('LOCK TABLE baton.feed_listeners IN SHARE ROW EXCLUSIVE MODE');
    await change(tx);
    await reconcile(tx, staleMs, triggers);
  });
}

/**
 * While anyone listens, makes sure `triggers` (this process's) exist; once nobody does, drops every
 * feed trigger in the schema, whoever created it.
 */
async function reconcile(tx: Queryable, staleMs: number, triggers: readonly FeedTrigger[]): Promise<void> {
  await tx.query(
    `DELETE FROM baton.feed_listeners WHERE heartbeat_at < now() - $1::int * interval '1 millisecond'`,
    [staleMs],
  );
  const [{ live }] = (await tx.query<{ live: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM baton.feed_listeners) AS live',
  )) as [{ live: boolean }];
  const existing = await tx.query<{ name: string; table: string }>(
    `SELECT t.tgname AS name, c.relname AS table FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'baton' AND t.tgname LIKE '%\\_feed' AND NOT t.tgisinternal`,
  );
  if (live) {
    const have = new Set(existing.map((t) => t.name));
    for (const t of triggers)
      if (!have.has(t.name)) await tx.query(`CREATE OR REPLACE TRIGGER ${t.name} ${t.definition}`);
  } else for (const t of existing) await tx.query(`DROP TRIGGER IF EXISTS ${t.name} ON baton.${t.table}`);
}

/**
 * One process's subscription to the change feed. `start` registers it and turns the feed on;
 * `stop` leaves, turning the feed off when nobody else listens.
 */
export class ChangeFeed {
  readonly id = newId();
  private unlisten: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly triggers: readonly FeedTrigger[];

  constructor(
    private readonly driver: Driver,
    private readonly log: Logger,
    options: ChangeFeedOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.staleMs = options.staleMs ?? 60_000;
    for (const t of options.triggers ?? [])
      if (!/^[a-z_]+_feed$/.test(t.name) || !/^[a-z_]+$/.test(t.table))
        throw new BatonError(
          'E_INVALID_OPTION',
          `feed trigger '${t.name}' on '${t.table}': names are [a-z_] and end in _feed`,
        );
    this.triggers = [...EXECUTION_TRIGGERS, ...(options.triggers ?? [])];
  }

  get running(): boolean {
    return this.unlisten !== undefined;
  }

  /**
   * Listens first, then registers and creates the triggers, so that no change committed after
   * `start` returns is missed. `onGap` is called when changes may have been missed (this process's
   * registration had lapsed, as after a long pause): a consumer should reload what it shows.
   */
  async start(onChanges: (changes: ExecutionChange[]) => void, onGap: () => void): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.driver.listen(CHANGES_CHANNEL, (payload) => {
      const changes = parseChanges(payload);
      if (changes.length) onChanges(changes);
    });
    try {
      await this.register();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.timer = setInterval(() => {
      this.beating = this.beat().then(
        (lapsed) => {
          if (lapsed) onGap();
        },
        (err: Error) => this.log.warn({ err: err.message }, 'change feed heartbeat failed'),
      );
    }, this.heartbeatMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.();
    // A heartbeat in flight could register again after the delete.
    await this.beating;
    await underLock(this.driver, this.staleMs, this.triggers, (tx) =>
      tx.query('DELETE FROM baton.feed_listeners WHERE id = $1', [this.id]),
    );
  }

  private async register(): Promise<void> {
    await underLock(this.driver, this.staleMs, this.triggers, (tx) =>
      tx.query(
        `INSERT INTO baton.feed_listeners (id) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
        [this.id],
      ),
    );
  }

  /** Renews the registration; true when it had lapsed (another process dropped it as stale). */
  private async beat(): Promise<boolean> {
    const rows = await this.driver.query(
      'UPDATE baton.feed_listeners SET heartbeat_at = now() WHERE id = $1 RETURNING id',
      [this.id],
    );
    // Stopped meanwhile: leaving is stop()'s to do.
    if (rows.length || !this.unlisten) return false;
    await this.register();
    return true;
  }
}
