// Routing for one dispatcher pass, which routes many tasks against the same sessions as it assigns
// them. A task can only go to a session with room, and besides those only the preferred sessions'
// state counts (it decides between an alternate and waiting). So each task is routed among those
// sessions alone: tens, where a thousand may be registered. Provider caps still count every
// session. A decision to queue or reject is made again over all of them, so that its explanation
// (why the task waits) counts every session. Both ways reach the same decision, with the same
// summary, rule, strategy and fallbacks; an assignment's list of candidates holds only the sessions
// routed among, which the dispatcher does not read (`tasks explain` routes over all).
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { SessionForRouting, TaskForRouting } from './model.js';
import { routeTask, type RoutingDecision } from './route.js';

export class PassRouting {
  private readonly all: SessionForRouting[];
  private readonly allIndex: Map<string, number>;
  /** The sessions a decision is made among: those with room and those a rule prefers. */
  private readonly few: SessionForRouting[] = [];
  private readonly fewIndex = new Map<string, number>();
  /** Sessions holding a task, per provider, over all sessions. */
  private readonly working = new Map<string, number>();
  private readonly maxPerSession: number;
  /** Tasks the sessions can still take. */
  private free = 0;

  constructor(
    private readonly rules: RoutingRules,
    sessions: readonly SessionForRouting[],
    private readonly now: number,
  ) {
    this.all = [...sessions];
    this.allIndex = new Map(sessions.map((s, i) => [s.name, i]));
    this.maxPerSession = rules.load_balancing?.max_tasks_per_session ?? Infinity;
    const named = namedByRules(rules);
    for (const s of sessions) {
      if (s.held_tasks > 0) this.working.set(s.provider, (this.working.get(s.provider) ?? 0) + 1);
      const room = this.roomOf(s);
      this.free += room;
      if (room > 0 || named.has(s.name)) {
        this.fewIndex.set(s.name, this.few.length);
        this.few.push(s);
      }
    }
  }

  /** Some session can take a task. */
  get open(): boolean {
    return this.free > 0;
  }

  /** How many more tasks the sessions can take. */
  get freeSlots(): number {
    return this.free;
  }

  get registered(): number {
    return this.all.length;
  }

  route(task: TaskForRouting): RoutingDecision {
    const options = { now: this.now, seed: task.id };
    // the target's checks (registered, excluded …) read every session
    if (task.target_session !== undefined) return routeTask(this.rules, this.all, task, options);
    const decision = routeTask(this.rules, this.few, task, { ...options, workingByProvider: this.working });
    return decision.kind === 'assign' ? decision : routeTask(this.rules, this.all, task, options);
  }

  /** The session was given a task by this pass. */
  assigned(name: string): void {
    const i = this.allIndex.get(name)!;
    const s = this.all[i]!;
    const updated: SessionForRouting = {
      ...s,
      status: s.status === 'idle' ? 'busy' : s.status,
      held_tasks: s.held_tasks + 1,
      last_assigned_at: this.now,
      assigned_total: s.assigned_total + 1,
    };
    this.all[i] = updated;
    const j = this.fewIndex.get(name);
    if (j !== undefined) this.few[j] = updated;
    if (s.held_tasks === 0) this.working.set(s.provider, (this.working.get(s.provider) ?? 0) + 1);
    this.free -= this.roomOf(s) - this.roomOf(updated);
  }

  private roomOf(s: SessionForRouting): number {
    if (s.status !== 'idle' && s.status !== 'busy') return 0;
    return Math.max(0, Math.min(s.capacity, this.maxPerSession) - s.held_tasks);
  }
}

/** Every session a rule prefers: the types' preferred_sessions and the unknown types' default_session. */
function namedByRules(rules: RoutingRules): Set<string> {
  const names = new Set<string>();
  for (const rule of Object.values(rules.environment_routing ?? {}))
    for (const name of rule.preferred_sessions ?? []) names.add(name);
  for (const rule of rules.fallback_rules ?? []) if (rule.default_session) names.add(rule.default_session);
  return names;
}
