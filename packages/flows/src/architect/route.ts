/**
 * Routing: which agent session takes a task, decided by a pure function of the routing rules, the
 * sessions and the task, with an explanation of every decision (`baton tasks explain`).
 *
 * **Rule.** `environment_routing[task.type]`. A type it does not list takes the first
 * `task_type_unknown → route_to_default` fallback rule, which *prefers* its `default_session` (when
 * that session cannot take the task, the preferred-session rules below apply as for any type); with
 * no such rule, an empty rule routes the task to any eligible session. An unknown type gets priority
 * 5, no timeout and no retries unless the task sets them.
 *
 * **Rejected** (never routable, nothing is stored; see {@link checkTask}): a priority that is not an
 * integer from 0 to 10, a `timeout_minutes` ≤ 0, a negative or fractional `max_retries`, a provider
 * the task names that `supported_providers` lacks, and a `target_session` that is not registered, is
 * excluded, is in the task's `avoid_sessions`, or runs a provider the task does not accept.
 *
 * **Hard constraints**, every one reported in the explanation:
 * - status `idle` or `busy`, with room: fewer tasks than `min(capacity, max_tasks_per_session)`.
 *   `waiting_input` (an approval prompt), `offline`, `stale` and `draining` are never chosen; nor is
 *   an `idle`/`busy` session whose last heartbeat is older than `health_monitoring.stale_threshold_minutes`
 *   (when monitoring is enabled): the router does not wait for the monitor to mark it.
 * - not in `excluded_sessions`, even when the rule prefers it (the exclusion wins);
 * - not in the task's `avoid_sessions`; only the `target_session` when the task names one;
 * - providers: `target_provider`, else `preferred_providers`, are the only providers accepted unless
 *   `allow_fallback`, which adds `fallback_providers` (any provider when that list is empty). They form
 *   tiers in that order: a later tier is used only when no session of an earlier tier is eligible.
 * - `supported_providers[].max_concurrent_sessions`: at most that many sessions of the provider hold a
 *   task at once (whatever their status), so an empty session of a capped provider is not eligible
 *   while the cap is reached. A provider that `supported_providers` does not list has no cap.
 *
 * **Preference**, among the eligible sessions of the best provider tier:
 * 1. The rule's `preferred_sessions` first, in their order. A session already in the task's
 *    `working_dir` (+2) or on its `git_branch` (+1) ranks above the order (context match).
 * 2. When none of them is eligible and at least one is busy or full, the first
 *    `all_preferred_sessions_busy → route_to_alternate` rule picks among the other eligible sessions by
 *    its `alternate_selection` (`least_busy`: the smallest share of its task limit in use; a strategy
 *    name also works; anything else uses `load_balancing.strategy`). Without that rule the task waits
 *    for a preferred session (`queue`, reason `preferred_sessions_busy`).
 * 3. When no preferred session is registered, or every one is barred, down or in a worse tier, the
 *    task goes to any eligible session by `load_balancing.strategy`: waiting for a session that is
 *    offline could last forever.
 * Among the candidates of step 2 or 3, context match ranks first, then the strategy's score, then the
 * session name, so a decision depends only on its inputs.
 *
 * **Strategies** (`load_balancing.strategy`, default `round_robin`): `round_robin` picks the session
 * assigned longest ago (never assigned first); `least_loaded` the smallest share of its task limit in
 * use; `weighted` draws with probability proportional to the provider's weight; `weighted_round_robin`
 * the session with the largest `weight / (assigned_total + 1)`, so each session's share of assignments
 * follows its provider's weight; `random` draws uniformly. A provider without a weight weighs 1. Draws
 * are seeded by `options.seed` (default empty), the task id and the session name: the same inputs give
 * the same decision, whatever the order of the sessions.
 *
 * **Queue.** When no session can take the task, the decision is `queue`, with `retry_after_seconds` and
 * `notify` (its `notification`) from the first `no_sessions_available → queue_task` rule. The caller
 * refuses a send past {@link queueLimit}, serves queued tasks in {@link compareForService} order (higher
 * priority first, oldest first among equals, aging one level per 10 minutes waited), and routes them
 * again after `retry_after_seconds` or when a session changes.
 *
 * **Timeouts** are the caller's: see {@link reassignPolicy}.
 *
 * Cost: a few passes over the sessions, no sorting (O(n)). The explanation's per-session reasons are
 * rendered only when read, so routing itself builds no text per session.
 * @module
 */
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { SessionForRouting, SessionStatus, TaskForRouting } from './model.js';
import type {
  CandidateExplanation,
  Explanation,
  QueueDecision,
  QueueReason,
  RoutingDecision,
} from './decision.js';
import { checkTask } from './check-task.js';
import { findFallback, providerTiers, resolveRule, tierOf, type ProviderTiers } from './task-rules.js';
import { asStrategy, DEFAULT_STRATEGY, strategyFor, type Strategy, type StrategyName } from './strategies.js';

export type * from './decision.js';
export { checkTask, type CheckedTask, type TaskProblem } from './check-task.js';
export {
  effectivePriority,
  queueLimit,
  reassignPolicy,
  taskSettings,
  type ReassignPolicy,
  type TaskSettings,
} from './task-rules.js';
export { compareForService, serviceKey, AGING_MINUTES_PER_LEVEL } from './service-order.js';
export { formatExplanation } from './explain.js';

/** Options of {@link routeTask}. */
export interface RouteOptions {
  /** The current time, ms since the epoch (heartbeat staleness, round robin). */
  readonly now: number;
  /** Seeds the draws of the `random` and `weighted` strategies (default: empty). */
  readonly seed?: string;
  /**
   * How many sessions of each provider hold a task, over every registered session. Only for a
   * caller that routes among a subset of the sessions (a dispatcher pass; see PassRouting), so that
   * `max_concurrent_sessions` still counts the others. Default: counted from `sessions`.
   */
  readonly workingByProvider?: ReadonlyMap<string, number>;
}

/**
 * Decides where `task` goes: `assign` (to a session now), `queue` (no session can take it now; route
 * it again later) or `reject` (it can never be routed as given). Pure: no I/O, no clock, no
 * Math.random; it never throws. The semantics are in this module's documentation.
 *
 * The explanation's candidates are rendered when first read, from the session objects given: the
 * router treats them as immutable, and so must the caller until it has read them.
 */
export function routeTask(
  rules: RoutingRules,
  sessions: readonly SessionForRouting[],
  task: TaskForRouting,
  options: RouteOptions,
): RoutingDecision {
  const resolved = resolveRule(rules, task.type);
  const fallbacks: string[] = resolved.note ? [resolved.note] : [];
  const problem = checkTask(rules, task, sessions);
  if (problem) {
    const summary = `rejected: ${problem.message}`;
    return {
      kind: 'reject',
      ...problem,
      explanation: explanation(resolved.label, 'none', fallbacks, summary),
    };
  }

  const k = constraintsFor(rules, resolved.rule.preferred_sessions ?? [], sessions, task, options);
  const candidates = sessions.map((s) => evaluate(s, k, task));
  const decide = new Decider(rules, task, options, k, resolved.label, candidates, fallbacks);

  let bestTier = Infinity;
  for (const c of candidates) if (!c.flags && c.tier < bestTier) bestTier = c.tier;
  const pool: Candidate[] = [];
  for (const c of candidates) {
    if (c.flags) continue;
    if (c.tier === bestTier) pool.push(c);
    else c.note = WORSE_TIER;
  }
  if (k.tiers && bestTier > 0 && bestTier < Infinity) {
    const tried = k.tiers.tiers.slice(0, bestTier).join(', ');
    const used = k.tiers.tiers[bestTier] ?? 'any other provider';
    fallbacks.push(`allow_fallback: no ${tried} session can take it; fallback provider ${used}`);
  }

  if (task.target_session !== undefined) {
    const target = candidates.find((c) => c.session.name === task.target_session)!;
    if (pool.length) return decide.assign(target, 'target_session', 'the target session');
    return decide.queue(
      'target_session_unavailable',
      `target session ${target.session.name}: ${decide.why(target)}`,
    );
  }

  const preferredPool = pool.filter((c) => c.preferred >= 0);
  if (preferredPool.length) {
    for (const c of pool) if (c.preferred < 0) c.note = 'alternate: a preferred session can take it';
    const best = preferredPool.reduce((a, b) => (byPreference(a, b) <= 0 ? a : b));
    return decide.assign(
      best,
      'preferred_sessions',
      `preferred session ${best.preferred + 1} of ${k.preferredCount}`,
    );
  }

  const preferred = candidates.filter((c) => c.preferred >= 0);
  const preferredState = describePreferred(preferred, k.preferredCount);
  if (preferred.some((c) => worstClass(c.flags) === BUSY)) {
    const alternate = findFallback(rules, 'all_preferred_sessions_busy', 'route_to_alternate');
    if (!alternate) {
      for (const c of pool) c.note = 'alternate: held back while a preferred session is busy';
      fallbacks.push(
        'no all_preferred_sessions_busy → route_to_alternate rule: the task waits for a preferred session',
      );
      return decide.queue('preferred_sessions_busy', `${preferredState}; no rule routes it to an alternate`);
    }
    if (!pool.length) {
      fallbacks.push(`${alternate.label}: no alternate can take it`);
      return decide.queue('no_sessions_available', `${preferredState}; no alternate can take it`);
    }
    const selection = asStrategy(alternate.rule.alternate_selection) ?? decide.strategy;
    fallbacks.push(`${alternate.label} (${selection})`);
    return decide.byStrategy(pool, selection, `${preferredState}; alternate by ${selection}`);
  }
  if (!pool.length) {
    const why = candidates.length
      ? `no session can take it (${tally(candidates)})`
      : 'no session is registered';
    return decide.queue('no_sessions_available', why);
  }
  const how = `${k.preferredCount ? `${preferredState}; ` : ''}${decide.strategy} among ${pool.length}`;
  return decide.byStrategy(pool, decide.strategy, how);
}

// Why a session cannot take the task: one bit per reason, in the order they are checked and reported.
const NOT_TARGET = 1 << 0;
const EXCLUDED = 1 << 1;
const AVOIDED = 1 << 2;
const OTHER_PROVIDER = 1 << 3;
const DOWN = 1 << 4;
const NO_HEARTBEAT = 1 << 5;
const FULL = 1 << 6;
const PROVIDER_CAP = 1 << 7;
const LAST_FLAG = PROVIDER_CAP;
/** Never for this task. */
const BARRED = NOT_TARGET | EXCLUDED | AVOIDED | OTHER_PROVIDER;
/** Not taking work: a task would wait for it indefinitely. */
const UNAVAILABLE = DOWN | NO_HEARTBEAT;
/** Busy: it will have room again when a task ends. */
const BUSY = FULL | PROVIDER_CAP;

/** The class of the worst reasons in `flags`: BARRED, UNAVAILABLE, BUSY, or 0 (eligible). */
function worstClass(flags: number): number {
  return flags & BARRED ? BARRED : flags & UNAVAILABLE ? UNAVAILABLE : flags & BUSY ? BUSY : 0;
}

/** The reason summaries give for a session: the first of its worst class. */
function worstFlag(flags: number): number {
  const worst = flags & worstClass(flags);
  return worst & -worst;
}

const TAGS: Record<number, string> = {
  [NOT_TARGET]: 'not the target',
  [EXCLUDED]: 'excluded',
  [AVOIDED]: 'avoided',
  [OTHER_PROVIDER]: 'other provider',
  [NO_HEARTBEAT]: 'no heartbeat',
  [FULL]: 'full',
  [PROVIDER_CAP]: 'provider cap',
};

const WORSE_TIER = 'fallback provider: a session of a better tier can take it';

const DOWN_REASONS: Partial<Record<SessionStatus, string>> = {
  waiting_input: 'waiting for input (an approval prompt): given no work until it is answered',
  offline: 'offline',
  stale: 'stale: no recent heartbeat',
  draining: 'draining: finishes its tasks and takes no new ones',
};

/** A session as the router weighs it. */
interface Candidate {
  readonly session: SessionForRouting;
  /** The most tasks it may hold: min(capacity, max_tasks_per_session). */
  readonly limit: number;
  /** Its provider's tier for this task (0 is best); Infinity when the task does not accept the provider. */
  readonly tier: number;
  /** Its index in the rule's preferred_sessions, or -1. */
  readonly preferred: number;
  /** Context match: +2 same working_dir, +1 same git_branch. */
  readonly context: number;
  /** Why it cannot take the task (the bits above); 0 when eligible. */
  readonly flags: number;
  /** What the selection says of it when it is eligible but not a choice. */
  note: string | undefined;
  /** Its strategy score, when the strategy chose among it. */
  score: number | undefined;
  chosen: boolean;
}

interface Constraints {
  readonly now: number;
  readonly excluded: ReadonlySet<string>;
  readonly avoid: ReadonlySet<string>;
  readonly preferred: ReadonlyMap<string, number>;
  readonly preferredCount: number;
  readonly maxPerSession: number | undefined;
  /** max_concurrent_sessions per capped provider, and how many of its sessions hold a task. */
  readonly caps: ReadonlyMap<string, { max: number; working: number }>;
  readonly tiers: ProviderTiers | undefined;
  readonly staleAfterMs: number | undefined;
  /** The task's working_dir without trailing slashes, and its git_branch (context match). */
  readonly workingDir: string | undefined;
  readonly gitBranch: string | undefined;
}

function constraintsFor(
  rules: RoutingRules,
  preferredSessions: readonly string[],
  sessions: readonly SessionForRouting[],
  task: TaskForRouting,
  { now, workingByProvider }: RouteOptions,
): Constraints {
  const preferred = new Map<string, number>();
  for (const name of preferredSessions) if (!preferred.has(name)) preferred.set(name, preferred.size);
  const caps = new Map<string, { max: number; working: number }>();
  for (const p of rules.supported_providers ?? []) {
    if (p.max_concurrent_sessions !== undefined)
      caps.set(p.name, { max: p.max_concurrent_sessions, working: workingByProvider?.get(p.name) ?? 0 });
  }
  if (!workingByProvider)
    for (const s of sessions) {
      const cap = caps.get(s.provider);
      if (cap && s.held_tasks > 0) cap.working++;
    }
  const health = rules.health_monitoring;
  const staleMinutes = health?.enabled === false ? undefined : health?.stale_threshold_minutes;
  return {
    now,
    excluded: new Set(rules.excluded_sessions),
    avoid: new Set(task.avoid_sessions),
    preferred,
    preferredCount: preferred.size,
    maxPerSession: rules.load_balancing?.max_tasks_per_session,
    caps,
    tiers: providerTiers(task),
    staleAfterMs: staleMinutes === undefined ? undefined : staleMinutes * 60_000,
    workingDir: task.working_dir === undefined ? undefined : trimSlashes(task.working_dir),
    gitBranch: task.git_branch,
  };
}

function evaluate(s: SessionForRouting, k: Constraints, task: TaskForRouting): Candidate {
  const limit = Math.min(s.capacity, k.maxPerSession ?? Infinity);
  const tier = tierOf(k.tiers, s.provider) ?? Infinity;
  const held = s.held_tasks;
  let flags = 0;
  if (task.target_session !== undefined && s.name !== task.target_session) flags |= NOT_TARGET;
  if (k.excluded.has(s.name)) flags |= EXCLUDED;
  if (k.avoid.has(s.name)) flags |= AVOIDED;
  if (tier === Infinity) flags |= OTHER_PROVIDER;
  if (s.status !== 'idle' && s.status !== 'busy') flags |= DOWN;
  else if (k.staleAfterMs !== undefined && k.now - s.last_heartbeat > k.staleAfterMs) flags |= NO_HEARTBEAT;
  if (held >= limit) flags |= FULL;
  const cap = k.caps.get(s.provider);
  if (cap && held === 0 && cap.working >= cap.max) flags |= PROVIDER_CAP;
  return {
    session: s,
    limit,
    tier,
    preferred: k.preferred.get(s.name) ?? -1,
    context: contextMatch(s, k),
    flags,
    note: undefined,
    score: undefined,
    chosen: false,
  };
}

function contextMatch(s: SessionForRouting, k: Constraints): number {
  const dir =
    k.workingDir !== undefined && s.working_dir !== undefined && trimSlashes(s.working_dir) === k.workingDir;
  const branch = k.gitBranch !== undefined && k.gitBranch === s.git_branch;
  return (dir ? 2 : 0) + (branch ? 1 : 0);
}

/** `/repo/` and `/repo` are the same directory. */
function trimSlashes(dir: string): string {
  let end = dir.length;
  while (end > 1 && dir.charCodeAt(end - 1) === 47) end--;
  return end === dir.length ? dir : dir.slice(0, end);
}

/** Orders preferred sessions: context match, then the rule's order. */
function byPreference(a: Candidate, b: Candidate): number {
  return b.context - a.context || a.preferred - b.preferred;
}

/** Orders the candidates of a strategy: context match, then score, then name. */
function byScore(a: Candidate, b: Candidate): number {
  return b.context - a.context || b.score! - a.score! || (a.session.name < b.session.name ? -1 : 1);
}

/** `all 2 preferred sessions are busy`, or what keeps them from the task. */
function describePreferred(preferred: readonly Candidate[], count: number): string {
  if (preferred.length === count && preferred.every((c) => worstClass(c.flags) === BUSY)) {
    return `all ${count} preferred sessions are busy`;
  }
  const missing = count - preferred.length;
  const parts = [tally(preferred), missing ? `${missing} not registered` : ''].filter(Boolean);
  return `no preferred session can take it (${parts.join(', ')})`;
}

/** `2 full, 1 offline, 1 excluded`: why these sessions cannot take the task, or are in a worse tier. */
function tally(candidates: readonly Candidate[]): string {
  const counts = new Map<string, number>();
  for (const c of candidates) {
    const tag = tagOf(c);
    if (tag) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return [...counts].map(([tag, n]) => `${n} ${tag}`).join(', ');
}

/** A word for why a session is not a choice, or undefined when it is one. */
function tagOf(c: Candidate): string | undefined {
  const flag = worstFlag(c.flags);
  if (flag === DOWN) return c.session.status;
  if (flag) return TAGS[flag];
  return c.note === WORSE_TIER ? 'in a worse provider tier' : undefined;
}

/** An explanation whose candidates are rendered on first read (routing itself needs none of that text). */
function explanation(
  rule: string,
  strategy: string,
  fallbacks: readonly string[],
  summary: string,
  render?: () => CandidateExplanation[],
): Explanation {
  let candidates: readonly CandidateExplanation[] | undefined;
  return {
    rule,
    strategy,
    get candidates() {
      return (candidates ??= render ? render() : []);
    },
    fallbacks,
    summary,
  };
}

/** Builds the decisions of one routeTask call, with their explanations. */
class Decider {
  /** `load_balancing.strategy`. */
  readonly strategy: StrategyName;
  /** The strategy that scored the candidates, if one did. */
  private scoredBy: Strategy | undefined;

  constructor(
    private readonly rules: RoutingRules,
    private readonly task: TaskForRouting,
    private readonly options: RouteOptions,
    private readonly k: Constraints,
    private readonly rule: string,
    private readonly candidates: readonly Candidate[],
    private readonly fallbacks: string[],
  ) {
    this.strategy = rules.load_balancing?.strategy ?? DEFAULT_STRATEGY;
  }

  assign(chosen: Candidate, strategy: string, how: string): RoutingDecision {
    chosen.chosen = true;
    const s = chosen.session;
    const context = ['', ', same git_branch', ', same working_dir', ', same working_dir and git_branch'][
      chosen.context
    ];
    const summary = `assigned to ${s.name}: ${how}, ${s.status}, ${s.held_tasks}/${chosen.limit} tasks${context}`;
    return {
      kind: 'assign',
      session: s.name,
      provider: s.provider,
      rule: this.rule,
      explanation: this.explain(strategy, summary),
    };
  }

  byStrategy(pool: readonly Candidate[], name: StrategyName, how: string): RoutingDecision {
    const strategy = strategyFor(name, this.rules.load_balancing?.weights, {
      now: this.options.now,
      seed: this.options.seed ?? '',
      taskId: this.task.id,
    });
    this.scoredBy = strategy;
    let best = pool[0];
    for (const c of pool) {
      c.score = strategy.score(c.session, c.limit);
      if (byScore(c, best) < 0) best = c;
    }
    return this.assign(best, name, how);
  }

  queue(reason: QueueReason, why: string): QueueDecision {
    const found = findFallback(this.rules, 'no_sessions_available', 'queue_task');
    const retry = found?.rule.retry_after_seconds;
    const notify = found?.rule.notification;
    if (found) {
      const details = [retry !== undefined && `retry after ${retry} s`, notify && 'notify'].filter(Boolean);
      this.fallbacks.push(details.length ? `${found.label} (${details.join(', ')})` : found.label);
    } else {
      this.fallbacks.push('no no_sessions_available → queue_task rule: queued with no retry interval');
    }
    return {
      kind: 'queue',
      reason,
      ...(retry !== undefined && { retry_after_seconds: retry }),
      ...(notify !== undefined && { notify }),
      explanation: this.explain(this.strategy, `pending: ${why}`),
    };
  }

  /** The reason summaries give for a candidate that cannot take the task. */
  why(c: Candidate): string {
    return this.reason(worstFlag(c.flags), c);
  }

  private explain(strategy: string, summary: string): Explanation {
    return explanation(this.rule, strategy, this.fallbacks, summary, () =>
      this.candidates.map((c) => this.render(c)),
    );
  }

  private render(c: Candidate): CandidateExplanation {
    const s = c.session;
    const reasons: string[] = [];
    if (c.preferred >= 0) reasons.push(`preferred session ${c.preferred + 1} of ${this.k.preferredCount}`);
    for (let flag = 1; flag <= LAST_FLAG; flag <<= 1) if (c.flags & flag) reasons.push(this.reason(flag, c));
    if (!c.flags) {
      reasons.push(`${s.status}, ${s.held_tasks}/${c.limit} tasks`);
      if (c.context & 2) reasons.push("context: already in the task's working_dir");
      if (c.context & 1) reasons.push("context: already on the task's git_branch");
    }
    if (c.note) reasons.push(c.note);
    if (c.score !== undefined) reasons.push(this.scoredBy!.describe(s, c.limit, c.score));
    const out: CandidateExplanation = {
      session: s.name,
      provider: s.provider,
      status: s.status,
      eligible: !c.flags,
      reasons,
    };
    if (c.score === undefined && !c.chosen) return out;
    return {
      ...out,
      ...(c.score !== undefined && { score: c.score }),
      ...(c.chosen && { chosen: true as const }),
    };
  }

  private reason(flag: number, c: Candidate): string {
    const s = c.session;
    switch (flag) {
      case NOT_TARGET:
        return `not the target session ${this.task.target_session}`;
      case EXCLUDED:
        return c.preferred >= 0
          ? 'excluded by excluded_sessions, although preferred'
          : 'excluded by excluded_sessions';
      case AVOIDED:
        return "in the task's avoid_sessions: it already ran this task";
      case OTHER_PROVIDER:
        return `provider ${s.provider} is not one the task accepts (${this.k.tiers!.tiers.join(', ')})`;
      case DOWN:
        return DOWN_REASONS[s.status]!;
      case NO_HEARTBEAT: {
        const minutes = ((this.k.now - s.last_heartbeat) / 60_000).toFixed(1);
        return `no heartbeat for ${minutes} min (stale after ${this.k.staleAfterMs! / 60_000} min)`;
      }
      case FULL: {
        const bound = c.limit < s.capacity ? `max_tasks_per_session ${c.limit}` : `capacity ${s.capacity}`;
        return `full: ${s.held_tasks}/${c.limit} tasks (${bound})`;
      }
      default: {
        const cap = this.k.caps.get(s.provider)!;
        return `provider ${s.provider} already has ${cap.working} sessions working (max_concurrent_sessions ${cap.max})`;
      }
    }
  }
}
