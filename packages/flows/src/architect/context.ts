// What the Architect's services share: the database, the engine client, the rules in force and the
// clock. Rules are read through a function so that a process watching its configuration routes by
// the latest rules without restarting.
import { BatonError, isBatonError, type Client, type Driver, type Logger } from '@baton/core';
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { SlaRules } from '../config/kinds/sla-rules.js';

export interface ArchitectRules {
  readonly routing: RoutingRules;
  readonly sla: SlaRules;
}

/**
 * The Architect's rules from a configuration: its routing_rules.yaml (required) and sla_rules.yaml.
 * @throws BatonError `E_CONFIG_INVALID` when the directory has no routing_rules.yaml.
 */
export function rulesFromConfig(config: {
  get(path: string): unknown;
  readonly dir: string;
}): ArchitectRules {
  const routing = config.get('routing_rules') as RoutingRules | undefined;
  if (!routing)
    throw new BatonError(
      'E_CONFIG_INVALID',
      `no routing_rules.yaml in ${config.dir}: the Architect routes by it (see docs/architect.md; examples/architect/baton has the seed's files)`,
    );
  return { routing, sla: (config.get('sla_rules') as SlaRules | undefined) ?? {} };
}

/** Listeners in this process for a moment of the Architect (no database round trip). */
export class LocalEvent {
  private readonly listeners = new Set<() => void>();

  /** Adds a listener; returns what removes it. */
  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/**
 * Where the Architect publishes what happened: a task that ended (`task.completed`, `task.failed`,
 * `task.cancelled`) and an SLA alert (`sla.alert`). YAML workflows' event triggers subscribe
 * (createFlows sets `emit`); `key` makes a repeat of the same event start nothing new.
 */
export interface ArchitectEvents {
  emit?: (event: string, data: unknown, key: string) => Promise<unknown>;
}

export interface ArchitectContext {
  /**
   * A task's workflow in this process saw its task end: a session has room again. The control
   * plane serves the queue then (a session's completion sends no NOTIFY of its own: its signal
   * wakes the task's workflow, which runs where the dispatcher runs).
   */
  readonly taskEnded: LocalEvent;
  readonly driver: Driver;
  readonly client: Client;
  readonly rules: () => ArchitectRules;
  /** ms since the epoch; tests pass a controllable clock. */
  readonly now: () => number;
  readonly log: Logger;
  readonly events: ArchitectEvents;
}

/** Tells sessions waiting for work that `session` was given a task (delivered at commit). */
export const SESSION_CHANNEL = 'baton_architect_session';
/** Asks the dispatcher loop of `baton architect` to serve the queue (a session has room again). */
export const DISPATCH_CHANNEL = 'baton_architect_dispatch';

/** The signal a task's workflow waits on: something changed its row; it reads it again. */
export const CHANGED_SIGNAL = 'changed';

/**
 * Wakes the workflows of tasks whose rows changed (after the commit). A workflow that has finished
 * or is not there yet (a send whose start is still to come) needs no wake-up: it reads the row when
 * it runs, and every wait it makes is bounded.
 */
export async function wakeWorkflows(ctx: ArchitectContext, workflowIds: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(workflowIds)].map(async (id) => {
      try {
        await ctx.client.signal(id, CHANGED_SIGNAL);
      } catch (err) {
        if (isBatonError(err, 'E_INVALID_STATE') || isBatonError(err, 'E_NOT_FOUND')) return;
        ctx.log.warn(
          { err, workflow: id },
          'could not wake a task workflow; it will look again at its next timer',
        );
      }
    }),
  );
}
