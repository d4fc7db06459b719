// Routing (issue 12, part 2): the pure routeTask over the example's real routing_rules.yaml, with
// sessions built by hand. Every fallback condition, strategy and constraint, context match, priority
// order, the reject cases, the explanations, a property test and a timing print.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { loadConfig } from '../src/config/load.js';
import type { RoutingRules } from '../src/config/kinds/routing-rules.js';
import { SESSION_STATUSES, type SessionForRouting, type TaskForRouting } from '../src/architect/model.js';
import {
  routeTask,
  checkTask,
  compareForService,
  effectivePriority,
  formatExplanation,
  queueLimit,
  reassignPolicy,
  taskSettings,
  type AssignDecision,
  type QueueDecision,
  type RejectDecision,
  type RoutingDecision,
  type RouteOptions,
} from '../src/architect/route.js';
import { PassRouting } from '../src/architect/pass-routing.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from './config-helpers.js';

const NOW = Date.UTC(2025, 0, 6, 12, 0, 0);
const MINUTE = 60_000;

let rules: RoutingRules;

beforeAll(async () => {
  const config = await loadConfig(EXAMPLE_CONFIG, { env: FIXTURE_ENV });
  expect(config.warnings).toEqual([]);
  rules = config.value.routing_rules!;
});

function session(name: string, over: Partial<SessionForRouting> = {}): SessionForRouting {
  return {
    name,
    provider: 'claude',
    status: 'idle',
    capacity: 5,
    held_tasks: 0,
    last_heartbeat: NOW,
    last_assigned_at: 0,
    assigned_total: 0,
    ...over,
  };
}

function task(type: string, over: Partial<TaskForRouting> = {}): TaskForRouting {
  return { id: 'task-1', type, prompt: 'do it', created_at: NOW, ...over };
}

function route(
  sessions: readonly SessionForRouting[],
  t: TaskForRouting,
  options: Partial<RouteOptions> = {},
  withRules: RoutingRules = rules,
): RoutingDecision {
  return routeTask(withRules, sessions, t, { now: NOW, ...options });
}

function assigned(decision: RoutingDecision): AssignDecision {
  if (decision.kind !== 'assign') throw new Error(`expected assign, got:\n${formatExplanation(decision)}`);
  return decision;
}

function queued(decision: RoutingDecision): QueueDecision {
  if (decision.kind !== 'queue') throw new Error(`expected queue, got:\n${formatExplanation(decision)}`);
  return decision;
}

function rejected(decision: RoutingDecision): RejectDecision {
  if (decision.kind !== 'reject') throw new Error(`expected reject, got:\n${formatExplanation(decision)}`);
  return decision;
}

function reasonsOf(decision: RoutingDecision, name: string): string {
  return decision.explanation.candidates.find((c) => c.session === name)!.reasons.join('; ');
}

/** The rules with another load-balancing strategy. */
function withStrategy(strategy: NonNullable<RoutingRules['load_balancing']>['strategy']): RoutingRules {
  return { ...rules, load_balancing: { ...rules.load_balancing, strategy } };
}

/** The fixture's sessions of the same names as its rules. */
function fixtureSessions(over: Record<string, Partial<SessionForRouting>> = {}): SessionForRouting[] {
  const providers: Record<string, string> = {
    dev_worker1: 'claude',
    dev_worker2: 'codex',
    codex: 'codex',
    claude_comet: 'comet',
    qa_tester1: 'claude',
    qa_tester2: 'gemini',
    architect: 'claude',
    manager1: 'claude',
  };
  return Object.entries(providers).map(([name, provider]) => session(name, { provider, ...over[name] }));
}

/** Routes `count` tasks one after another, updating the sessions as an assignment would. */
function simulate(
  withRules: RoutingRules,
  sessions: SessionForRouting[],
  type: string,
  count: number,
): Map<string, number> {
  const counts = new Map<string, number>();
  let current = sessions;
  for (let i = 0; i < count; i++) {
    const at = NOW + i * 1000;
    const d = assigned(routeTask(withRules, current, task(type, { id: `t${i}` }), { now: at }));
    counts.set(d.session, (counts.get(d.session) ?? 0) + 1);
    current = current.map((s) =>
      s.name === d.session ? { ...s, last_assigned_at: at, assigned_total: s.assigned_total + 1 } : s,
    );
  }
  return counts;
}

describe('the rule that applies', () => {
  it('routes a known type by environment_routing[type], its preferred sessions in order', () => {
    const d = assigned(route(fixtureSessions(), task('bug_fix')));
    expect(d.session).toBe('dev_worker2');
    expect(d.rule).toBe('environment_routing.bug_fix');
    expect(d.explanation.strategy).toBe('preferred_sessions');
    expect(d.explanation.summary).toBe('assigned to dev_worker2: preferred session 1 of 2, idle, 0/5 tasks');

    const second = assigned(route(fixtureSessions({ dev_worker2: { status: 'offline' } }), task('bug_fix')));
    expect(second.session).toBe('codex');
    expect(second.explanation.summary).toMatch(/preferred session 2 of 2/);
  });

  it('routes an unknown type by the task_type_unknown rule to the default session, and says so', () => {
    const d = assigned(route(fixtureSessions(), task('bug_fx')));
    expect(d.session).toBe('dev_worker1');
    expect(d.rule).toBe('fallback_rules[2] task_type_unknown → route_to_default (dev_worker1)');
    expect(d.explanation.fallbacks[0]).toBe(
      "task type 'bug_fx' has no environment_routing rule (did you mean 'bug_fix'?): " +
        'fallback_rules[2] task_type_unknown → route_to_default (dev_worker1)',
    );
    expect(taskSettings(rules, task('bug_fx'))).toEqual({
      priority: 5,
      timeout_minutes: undefined,
      max_retries: 0,
    });
  });

  it('routes an unknown type anywhere when there is no task_type_unknown rule', () => {
    const noDefault = {
      ...rules,
      fallback_rules: rules.fallback_rules!.filter((r) => r.condition !== 'task_type_unknown'),
    };
    const d = assigned(route([session('w1')], task('mystery'), {}, noDefault));
    expect(d.rule).toBe('none');
    expect(d.explanation.fallbacks[0]).toMatch(/no task_type_unknown rule: any session/);
  });
});

describe('fallback rules', () => {
  it('no_sessions_available: queues with retry_after_seconds and notification, naming why', () => {
    const d = queued(
      route(
        [
          session('dev_worker2', { provider: 'codex', status: 'offline' }),
          session('w1', { status: 'busy', held_tasks: 5 }),
          session('architect'),
        ],
        task('bug_fix'),
      ),
    );
    expect(d).toMatchObject({ reason: 'no_sessions_available', retry_after_seconds: 60, notify: true });
    expect(d.explanation.fallbacks).toContain(
      'fallback_rules[0] no_sessions_available → queue_task (retry after 60 s, notify)',
    );
    expect(d.explanation.summary).toBe('pending: no session can take it (1 offline, 1 full, 1 excluded)');
    expect(queueLimit(rules)).toBe(100);
  });

  it('no_sessions_available with no session registered at all', () => {
    const d = queued(route([], task('bug_fix')));
    expect(d.explanation.summary).toBe('pending: no session is registered');
  });

  it('no_sessions_available without the rule: queued with no retry interval', () => {
    const bare = { ...rules, fallback_rules: [] };
    const d = queued(route([session('w1', { status: 'offline' })], task('bug_fix'), {}, bare));
    expect(d.retry_after_seconds).toBeUndefined();
    expect(d.notify).toBeUndefined();
    expect(d.explanation.fallbacks).toContain(
      'no no_sessions_available → queue_task rule: queued with no retry interval',
    );
  });

  it('all_preferred_sessions_busy: routes to the least busy alternate', () => {
    const sessions = fixtureSessions({
      dev_worker2: { status: 'busy', held_tasks: 5 },
      codex: { status: 'busy', held_tasks: 5 },
      dev_worker1: { status: 'busy', held_tasks: 2 },
      claude_comet: { status: 'busy', held_tasks: 1 },
      qa_tester1: { status: 'busy', held_tasks: 3 },
      qa_tester2: { status: 'busy', held_tasks: 4 },
    });
    const d = assigned(route(sessions, task('bug_fix')));
    expect(d.session).toBe('claude_comet');
    expect(d.explanation.strategy).toBe('least_busy');
    expect(d.explanation.fallbacks).toEqual([
      'fallback_rules[1] all_preferred_sessions_busy → route_to_alternate (least_busy)',
    ]);
    expect(d.explanation.summary).toBe(
      'assigned to claude_comet: all 2 preferred sessions are busy; alternate by least_busy, busy, 1/5 tasks',
    );
    expect(reasonsOf(d, 'dev_worker2')).toBe('preferred session 1 of 2; full: 5/5 tasks (capacity 5)');
  });

  it('all_preferred_sessions_busy with no alternate that can take it: pending, and says both', () => {
    const sessions = [
      session('dev_worker2', { provider: 'codex', status: 'busy', held_tasks: 5 }),
      session('codex', { provider: 'codex', status: 'busy', held_tasks: 5 }),
      session('w1', { status: 'offline' }),
    ];
    const d = queued(route(sessions, task('bug_fix')));
    expect(d.reason).toBe('no_sessions_available');
    expect(d.explanation.summary).toBe(
      'pending: all 2 preferred sessions are busy; no alternate can take it',
    );
    expect(d.explanation.fallbacks).toEqual([
      'fallback_rules[1] all_preferred_sessions_busy → route_to_alternate: no alternate can take it',
      'fallback_rules[0] no_sessions_available → queue_task (retry after 60 s, notify)',
    ]);
  });

  it('without an all_preferred_sessions_busy rule, a task waits for its busy preferred session', () => {
    const strict = {
      ...rules,
      fallback_rules: rules.fallback_rules!.filter((r) => r.condition !== 'all_preferred_sessions_busy'),
    };
    const sessions = [
      session('dev_worker2', { provider: 'codex', status: 'busy', held_tasks: 5 }),
      session('w1'),
    ];
    const d = queued(route(sessions, task('bug_fix'), {}, strict));
    expect(d.reason).toBe('preferred_sessions_busy');
    expect(reasonsOf(d, 'w1')).toMatch(/alternate: held back while a preferred session is busy/);
  });

  it('preferred sessions that are down (not busy) do not hold the task back', () => {
    const sessions = [session('dev_worker2', { provider: 'codex', status: 'offline' }), session('w1')];
    const d = assigned(route(sessions, task('bug_fix')));
    expect(d.session).toBe('w1');
    expect(d.explanation.strategy).toBe('weighted_round_robin');
    expect(d.explanation.summary).toMatch(
      /^assigned to w1: no preferred session can take it \(1 offline, 1 not registered\)/,
    );
  });

  it('timeout_exceeded: reassignPolicy gives the caller the rule, with retries from the task type', () => {
    expect(reassignPolicy(rules, task('bug_fix'))).toEqual({
      reassignTo: 'alternate_session',
      maxReassignments: 2,
      maxRetries: 3,
    });
    expect(reassignPolicy(rules, task('documentation', { max_retries: 0 })).maxRetries).toBe(0);
    const none = { ...rules, fallback_rules: [] };
    expect(reassignPolicy(none, task('bug_fix'))).toEqual({
      reassignTo: 'alternate_session',
      maxReassignments: 0,
      maxRetries: 3,
    });
    // A reassignment to an alternate: the timed-out session is avoided.
    const d = assigned(route(fixtureSessions(), task('bug_fix', { avoid_sessions: ['dev_worker2'] })));
    expect(d.session).toBe('codex');
  });
});

describe('strategies', () => {
  // The testing rule prefers qa_tester1/2, which are not registered here: the strategy decides.
  const workers = (n: number, over: Partial<SessionForRouting> = {}) =>
    Array.from({ length: n }, (_, i) => session(`w${i + 1}`, over));

  it('round_robin rotates through the sessions, least recently assigned first', () => {
    const order: string[] = [];
    let sessions = workers(3);
    for (let i = 0; i < 6; i++) {
      const at = NOW + i * 1000;
      const d = assigned(
        routeTask(withStrategy('round_robin'), sessions, task('testing', { id: `t${i}` }), { now: at }),
      );
      order.push(d.session);
      sessions = sessions.map((s) => (s.name === d.session ? { ...s, last_assigned_at: at } : s));
    }
    expect(order).toEqual(['w1', 'w2', 'w3', 'w1', 'w2', 'w3']);
  });

  it('least_loaded picks the smallest share of its task limit in use', () => {
    const sessions = [
      session('w1', { status: 'busy', held_tasks: 2, capacity: 5 }),
      session('w2', { status: 'busy', held_tasks: 1, capacity: 2 }),
      session('w3', { status: 'busy', held_tasks: 3, capacity: 5 }),
    ];
    const d = assigned(route(sessions, task('testing'), {}, withStrategy('least_loaded')));
    expect(d.session).toBe('w1');
    expect(reasonsOf(d, 'w2')).toMatch(/least_loaded: 1\/2 tasks/);
  });

  it('breaks equal scores by session name', () => {
    const sessions = [session('w3'), session('w1'), session('w2')];
    expect(assigned(route(sessions, task('testing'), {}, withStrategy('least_loaded'))).session).toBe('w1');
  });

  it('weighted_round_robin (the fixture) follows the provider weights over many decisions', () => {
    const sessions = ['claude', 'codex', 'gemini', 'ollama'].map((p) => session(`s_${p}`, { provider: p }));
    const counts = simulate(rules, sessions, 'testing', 280);
    // weights 10 : 8 : 6 : 4 of 28
    expect(Object.fromEntries(counts)).toEqual({ s_claude: 100, s_codex: 80, s_gemini: 60, s_ollama: 40 });
  });

  it('weighted draws by weight, reproducibly', () => {
    const sessions = ['claude', 'ollama'].map((p) => session(`s_${p}`, { provider: p }));
    const weighted = withStrategy('weighted');
    let claude = 0;
    for (let i = 0; i < 2800; i++) {
      const d = assigned(
        routeTask(weighted, sessions, task('testing', { id: `t${i}` }), { now: NOW, seed: 's' }),
      );
      if (d.session === 's_claude') claude++;
    }
    // 10 / 14 of 2800 = 2000; a binomial standard deviation is about 24.
    expect(claude).toBeGreaterThan(1900);
    expect(claude).toBeLessThan(2100);
  });

  it('random is reproducible for a seed, independent of session order, and differs across seeds', () => {
    const random = withStrategy('random');
    const sessions = workers(8);
    const pick = (seed: string, list = sessions) =>
      assigned(routeTask(random, list, task('testing'), { now: NOW, seed })).session;
    expect(pick('alpha')).toBe(pick('alpha'));
    expect(pick('alpha', [...sessions].reverse())).toBe(pick('alpha'));
    const picks = new Set(Array.from({ length: 20 }, (_, i) => pick(`seed-${i}`)));
    expect(picks.size).toBeGreaterThan(3);
  });
});

describe('constraints', () => {
  it('an excluded session is never chosen, even when preferred; the explanation says so', () => {
    const sessions = [session('architect'), session('w1')];
    const d = assigned(route(sessions, task('infrastructure')));
    expect(d.session).toBe('w1');
    expect(reasonsOf(d, 'architect')).toBe(
      'preferred session 1 of 2; excluded by excluded_sessions, although preferred',
    );
    const withWorker = assigned(
      route([session('architect'), session('dev_worker1')], task('infrastructure')),
    );
    expect(withWorker.session).toBe('dev_worker1');
    expect(withWorker.explanation.summary).toMatch(/preferred session 2 of 2/);
  });

  it('a session waiting for input (an approval prompt) is never chosen', () => {
    const sessions = fixtureSessions({ dev_worker2: { status: 'waiting_input' } });
    const d = assigned(route(sessions, task('bug_fix')));
    expect(d.session).toBe('codex');
    expect(reasonsOf(d, 'dev_worker2')).toMatch(/waiting for input \(an approval prompt\)/);
  });

  it.each([
    ['waiting_input', 'waiting for input'],
    ['draining', 'draining: finishes its tasks and takes no new ones'],
    ['stale', 'stale'],
    ['offline', 'offline'],
  ] as const)('a session with status %s is never chosen', (status, reason) => {
    const d = queued(route([session('w1', { status })], task('testing')));
    expect(d.explanation.summary).toBe(`pending: no session can take it (1 ${status})`);
    expect(reasonsOf(d, 'w1')).toContain(reason);
  });

  it('an idle session without a heartbeat for stale_threshold_minutes is not chosen', () => {
    const sessions = [session('w1', { last_heartbeat: NOW - 6 * MINUTE }), session('w2')];
    const d = assigned(route(sessions, task('testing')));
    expect(d.session).toBe('w2');
    expect(reasonsOf(d, 'w1')).toBe('no heartbeat for 6.0 min (stale after 5 min)');
  });

  it('capacity and max_tasks_per_session bound the tasks a session holds', () => {
    const full = session('w1', { status: 'busy', capacity: 1, held_tasks: 1 });
    const capped = session('w2', { status: 'busy', capacity: 10, held_tasks: 5 });
    const room = session('w3', { status: 'busy', capacity: 10, held_tasks: 4 });
    const d = assigned(route([full, capped, room], task('testing')));
    expect(d.session).toBe('w3');
    expect(reasonsOf(d, 'w1')).toBe('full: 1/1 tasks (capacity 1)');
    expect(reasonsOf(d, 'w2')).toBe('full: 5/5 tasks (max_tasks_per_session 5)');
    expect(d.explanation.summary).toMatch(/busy, 4\/5 tasks$/);
  });

  it('max_concurrent_sessions: an empty session of a provider at its cap is not chosen', () => {
    // ollama: max_concurrent_sessions 5
    const working = Array.from({ length: 5 }, (_, i) =>
      session(`o${i}`, { provider: 'ollama', status: 'busy', held_tasks: i === 2 ? 1 : 5 }),
    );
    const sessions = [session('a_idle', { provider: 'ollama' }), ...working];
    const ollama = task('testing', { target_provider: 'ollama' });
    const d = assigned(route(sessions, ollama));
    expect(d.session).toBe('o2');
    expect(reasonsOf(d, 'a_idle')).toBe(
      'provider ollama already has 5 sessions working (max_concurrent_sessions 5)',
    );

    const allFull = sessions.map((s) => (s.name === 'o2' ? { ...s, held_tasks: 5 } : s));
    expect(queued(route(allFull, ollama)).explanation.summary).toBe(
      'pending: no session can take it (1 provider cap, 5 full)',
    );
  });

  it('target_session: only it, and the task waits while it is full', () => {
    const d = assigned(route(fixtureSessions(), task('bug_fix', { target_session: 'qa_tester2' })));
    expect(d.session).toBe('qa_tester2');
    expect(d.explanation.strategy).toBe('target_session');
    expect(reasonsOf(d, 'dev_worker2')).toBe('preferred session 1 of 2; not the target session qa_tester2');

    const full = fixtureSessions({ qa_tester2: { status: 'busy', held_tasks: 5 } });
    const q = queued(route(full, task('bug_fix', { target_session: 'qa_tester2' })));
    expect(q.reason).toBe('target_session_unavailable');
    expect(q.explanation.summary).toBe('pending: target session qa_tester2: full: 5/5 tasks (capacity 5)');
  });

  it('target_provider without allow_fallback: only that provider', () => {
    const sessions = [...fixtureSessions({ dev_worker1: { status: 'offline' } })];
    const d = assigned(route(sessions, task('bug_fix', { target_provider: 'gemini' })));
    expect(d.session).toBe('qa_tester2');
    expect(reasonsOf(d, 'dev_worker2')).toMatch(/provider codex is not one the task accepts \(gemini\)/);

    const busy = fixtureSessions({ qa_tester2: { status: 'busy', held_tasks: 5 } });
    expect(queued(route(busy, task('bug_fix', { target_provider: 'gemini' }))).reason).toBe(
      'no_sessions_available',
    );
  });

  it('target_provider with allow_fallback: fallback_providers in order', () => {
    const sessions = [
      session('c1', { status: 'busy', held_tasks: 5 }),
      session('x1', { provider: 'codex' }),
      session('g1', { provider: 'gemini' }),
    ];
    const t = task('testing', {
      target_provider: 'claude',
      allow_fallback: true,
      fallback_providers: ['gemini', 'codex'],
    });
    const d = assigned(route(sessions, t));
    expect(d.session).toBe('g1');
    expect(d.explanation.fallbacks).toContain(
      'allow_fallback: no claude session can take it; fallback provider gemini',
    );
    expect(reasonsOf(d, 'x1')).toMatch(/fallback provider: a session of a better tier can take it/);

    const anyOther = task('testing', { target_provider: 'claude', allow_fallback: true });
    expect(assigned(route(sessions.slice(0, 2), anyOther)).session).toBe('x1');
  });

  it('preferred_providers without allow_fallback accept only those providers', () => {
    const sessions = [session('c1'), session('x1', { provider: 'codex' })];
    expect(assigned(route(sessions, task('testing', { preferred_providers: ['codex'] }))).session).toBe('x1');
  });

  it('a provider that supported_providers does not list is allowed for a task that names none', () => {
    expect(assigned(route([session('a1', { provider: 'aider' })], task('testing'))).session).toBe('a1');
  });

  it('avoid_sessions are never chosen', () => {
    const d = assigned(
      route(fixtureSessions(), task('bug_fix', { avoid_sessions: ['dev_worker2', 'codex'] })),
    );
    expect(d.session).not.toMatch(/^(dev_worker2|codex)$/);
    expect(reasonsOf(d, 'codex')).toMatch(/in the task's avoid_sessions/);
  });
});

describe('context match', () => {
  it('a session already in the working_dir or on the git_branch ranks higher', () => {
    const sessions = [
      session('w1', { working_dir: '/elsewhere' }),
      session('w2', { git_branch: 'fix/login' }),
      session('w3', { working_dir: '/repo' }),
    ];
    const inDir = task('testing', { working_dir: '/repo/', git_branch: 'fix/login' });
    const d = assigned(route(sessions, inDir, {}, withStrategy('round_robin')));
    expect(d.session).toBe('w3');
    expect(d.explanation.summary).toMatch(/same working_dir$/);
    const onBranch = task('testing', { working_dir: '/nowhere', git_branch: 'fix/login' });
    expect(assigned(route(sessions, onBranch, {}, withStrategy('round_robin'))).session).toBe('w2');
  });

  it('ranks above the order of preferred sessions', () => {
    const sessions = fixtureSessions({ codex: { working_dir: '/repo' } });
    const d = assigned(route(sessions, task('bug_fix', { working_dir: '/repo' })));
    expect(d.session).toBe('codex');
    expect(reasonsOf(d, 'codex')).toMatch(/context: already in the task's working_dir/);
  });
});

describe('priority', () => {
  it('effectivePriority: the task, else its rule, else 5', () => {
    expect(effectivePriority(rules, task('bug_fix'))).toBe(9);
    expect(effectivePriority(rules, task('bug_fix', { priority: 2 }))).toBe(2);
    expect(effectivePriority(rules, task('mystery'))).toBe(5);
  });

  it('serves higher priority first, oldest first among equals, and ages waiting tasks', () => {
    const q = [
      { id: 'p5', priority: 5, created_at: NOW },
      { id: 'p9', priority: 9, created_at: NOW },
      { id: 'p5-old', priority: 5, created_at: NOW - MINUTE },
      { id: 'p2', priority: 2, created_at: NOW },
    ];
    expect([...q].sort(compareForService).map((t) => t.id)).toEqual(['p9', 'p5-old', 'p5', 'p2']);
    // One level per 10 minutes waited: a priority 2 sent 71 minutes before a priority 9 goes first.
    const aged = { priority: 2, created_at: NOW - 71 * MINUTE };
    const fresh = { priority: 9, created_at: NOW };
    expect(compareForService(aged, fresh)).toBeLessThan(0);
    expect(compareForService({ ...aged, created_at: NOW - 69 * MINUTE }, fresh)).toBeGreaterThan(0);
    // On an exact tie the higher priority goes first.
    expect(compareForService({ ...aged, created_at: NOW - 70 * MINUTE }, fresh)).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  const sessions = fixtureSessions();

  it.each([
    [{ priority: 11 }, 'priority must be an integer from 0 (lowest) to 10 (highest), not 11'],
    [{ priority: -1 }, 'priority must be an integer from 0 (lowest) to 10 (highest), not -1'],
    [{ priority: 2.5 }, 'priority must be an integer from 0 (lowest) to 10 (highest), not 2.5'],
    [{ timeout_minutes: 0 }, 'timeout_minutes must be a positive number of minutes, not 0'],
    [{ timeout_minutes: -5 }, 'timeout_minutes must be a positive number of minutes, not -5'],
    [{ max_retries: -1 }, 'max_retries must be an integer ≥ 0, not -1'],
    [
      { target_provider: 'claud' },
      "target_provider: provider 'claud' is not in routing_rules.supported_providers (did you mean 'claude'?); " +
        'supported: claude, codex, ollama, comet, gemini, grok',
    ],
    [{ fallback_providers: ['gemeni'] }, /fallback_providers: provider 'gemeni' .*did you mean 'gemini'/],
    [
      { target_session: 'architect' },
      "target session 'architect' is in routing_rules.excluded_sessions: it never receives tasks",
    ],
    [
      { target_session: 'codex', target_provider: 'claude' },
      /target session 'codex' runs provider 'codex', which the task does not accept \(claude\)/,
    ],
  ])('rejects %o with E_INVALID_OPTION', (over, message) => {
    const d = rejected(route(sessions, task('bug_fix', over)));
    expect(d.code).toBe('E_INVALID_OPTION');
    expect(d.message).toMatch(message);
    expect(d.explanation.summary).toBe(`rejected: ${d.message}`);
    expect(checkTask(rules, task('bug_fix', over), sessions)).toEqual({ code: d.code, message: d.message });
  });

  it('rejects a target session that does not exist with E_NOT_FOUND and a did-you-mean', () => {
    const d = rejected(route(sessions, task('bug_fix', { target_session: 'dev_wroker1' })));
    expect(d.code).toBe('E_NOT_FOUND');
    expect(d.message).toBe(
      "target session 'dev_wroker1' does not exist (did you mean 'dev_worker1'?); " +
        '`baton sessions list` shows the registered sessions',
    );
  });

  it('checkTask without sessions checks only the task; a valid task and an unknown type pass', () => {
    expect(checkTask(rules, task('bug_fix', { target_session: 'nobody' }))).toBeUndefined();
    expect(
      checkTask(rules, task('mystery', { priority: 0, timeout_minutes: 0.5 }), sessions),
    ).toBeUndefined();
  });
});

describe('explanations', () => {
  it('formatExplanation lists the outcome, rule, fallbacks, every candidate with reasons, and the summary', () => {
    const sessions = fixtureSessions({
      dev_worker2: { status: 'busy', held_tasks: 5 },
      codex: { status: 'waiting_input' },
    });
    const text = formatExplanation(route(sessions, task('bug_fix')));
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'assign → claude_comet (comet)',
      'rule: environment_routing.bug_fix',
      'strategy: least_busy',
      'fallbacks:',
      '  - fallback_rules[1] all_preferred_sessions_busy → route_to_alternate (least_busy)',
    ]);
    expect(lines[6]).toBe(
      '* chosen  claude_comet (comet, idle, score 1): idle, 0/5 tasks; least_busy: 0/5 tasks',
    );
    expect(text).toContain('  not eligible  architect (claude, idle): excluded by excluded_sessions\n');
    expect(text).toContain(
      '  not eligible  codex (codex, waiting_input): preferred session 2 of 2; waiting for input (an approval prompt): given no work until it is answered',
    );
    expect(lines.at(-1)).toBe(
      'summary: assigned to claude_comet: no preferred session can take it (1 full, 1 waiting_input); alternate by least_busy, idle, 0/5 tasks',
    );
  });

  it('serializes to JSON with its candidates', () => {
    const d = route(fixtureSessions(), task('bug_fix'));
    const json = JSON.parse(JSON.stringify(d.explanation)) as typeof d.explanation;
    expect(json.candidates).toHaveLength(8);
    expect(json.candidates.find((c) => c.chosen)).toMatchObject({ session: 'dev_worker2', eligible: true });
  });

  it('formats a pending task', () => {
    const text = formatExplanation(route([session('w1', { status: 'offline' })], task('testing')));
    expect(text.split('\n')[0]).toBe('queue (no_sessions_available; retry after 60 s; notify)');
    expect(text).toContain('summary: pending: no session can take it (1 offline)');
  });
});

describe('properties', () => {
  const NAMES = [
    'dev_worker1',
    'dev_worker2',
    'codex',
    'qa_tester1',
    'architect',
    'manager1',
    'w1',
    'w2',
    'w3',
    'w4',
  ];
  const PROVIDERS = ['claude', 'codex', 'ollama', 'gemini', 'aider'];
  const SUPPORTED = ['claude', 'codex', 'ollama', 'gemini'];
  const TYPES = ['bug_fix', 'infrastructure', 'testing', 'documentation', 'mystery'];
  const STRATEGIES = ['round_robin', 'least_loaded', 'weighted', 'weighted_round_robin', 'random'] as const;

  const sessionArb = fc.record({
    name: fc.constantFrom(...NAMES),
    provider: fc.constantFrom(...PROVIDERS),
    status: fc.constantFrom(...SESSION_STATUSES),
    capacity: fc.integer({ min: 0, max: 7 }),
    held_tasks: fc.integer({ min: 0, max: 7 }),
    working_dir: fc.option(fc.constantFrom('/repo', '/other'), { nil: undefined }),
    git_branch: fc.option(fc.constantFrom('main', 'fix'), { nil: undefined }),
    last_heartbeat: fc.integer({ min: NOW - 10 * MINUTE, max: NOW }),
    last_assigned_at: fc.oneof(fc.constant(0), fc.integer({ min: NOW - 60 * MINUTE, max: NOW })),
    assigned_total: fc.nat(50),
  });
  const sessionsArb = fc.uniqueArray(sessionArb, { selector: (s) => s.name, maxLength: NAMES.length });
  const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const taskArb = fc.record({
    id: fc.string({ minLength: 1, maxLength: 8 }),
    type: fc.constantFrom(...TYPES),
    prompt: fc.constant('p'),
    created_at: fc.constant(NOW),
    priority: opt(fc.integer({ min: 0, max: 10 })),
    target_session: opt(fc.constantFrom(...NAMES)),
    target_provider: opt(fc.constantFrom(...SUPPORTED)),
    preferred_providers: opt(fc.subarray(SUPPORTED)),
    fallback_providers: opt(fc.subarray(SUPPORTED)),
    allow_fallback: fc.boolean(),
    avoid_sessions: opt(fc.subarray(NAMES)),
    working_dir: opt(fc.constantFrom('/repo', '/other')),
    git_branch: opt(fc.constantFrom('main', 'fix')),
  });

  /** Whether `s` may take `t` now, computed independently of the router. */
  function mayTake(s: SessionForRouting, t: TaskForRouting, all: readonly SessionForRouting[]): boolean {
    const limit = Math.min(s.capacity, rules.load_balancing!.max_tasks_per_session!);
    const accepted =
      t.target_provider !== undefined
        ? [t.target_provider]
        : t.preferred_providers?.length
          ? t.preferred_providers
          : undefined;
    const fallback = t.allow_fallback ? (t.fallback_providers?.length ? t.fallback_providers : 'any') : [];
    const providerOk =
      !accepted || accepted.includes(s.provider) || fallback === 'any' || fallback.includes(s.provider);
    const cap = rules.supported_providers!.find((p) => p.name === s.provider)?.max_concurrent_sessions;
    const working = all.filter((o) => o.provider === s.provider && o.held_tasks > 0).length;
    return (
      (s.status === 'idle' || s.status === 'busy') &&
      NOW - s.last_heartbeat <= 5 * MINUTE &&
      s.held_tasks < limit &&
      !rules.excluded_sessions!.includes(s.name) &&
      !t.avoid_sessions?.includes(s.name) &&
      (t.target_session === undefined || t.target_session === s.name) &&
      providerOk &&
      (cap === undefined || s.held_tasks > 0 || working < cap)
    );
  }

  it('an assignment always names a session that may take the task; never throws; order does not matter', () => {
    fc.assert(
      fc.property(
        sessionsArb,
        taskArb,
        fc.constantFrom(...STRATEGIES),
        fc.string(),
        (sessions, t, strategy, seed) => {
          const r = withStrategy(strategy);
          const d = routeTask(r, sessions, t, { now: NOW, seed });
          const reversed = routeTask(r, [...sessions].reverse(), t, { now: NOW, seed });
          expect(reversed.kind).toBe(d.kind);
          if (d.kind === 'assign') {
            const chosen = sessions.find((s) => s.name === d.session)!;
            expect(mayTake(chosen, t, sessions)).toBe(true);
            expect(d.explanation.candidates.filter((c) => c.chosen).map((c) => c.session)).toEqual([
              d.session,
            ]);
            expect((reversed as AssignDecision).session).toBe(d.session);
          } else if (d.kind === 'queue' && d.reason === 'no_sessions_available') {
            expect(sessions.filter((s) => mayTake(s, t, sessions))).toEqual([]);
          } else if (d.kind === 'reject') {
            expect(t.target_session).toBeDefined();
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a dispatcher pass (PassRouting, among the sessions with room) decides as routeTask over every session, task after task', () => {
    const capArb = fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined });
    fc.assert(
      fc.property(
        sessionsArb,
        fc.array(taskArb, { maxLength: 8 }),
        fc.constantFrom(...STRATEGIES),
        fc.array(capArb, { minLength: SUPPORTED.length, maxLength: SUPPORTED.length }),
        (sessions, tasks, strategy, caps) => {
          const r: RoutingRules = {
            ...withStrategy(strategy),
            supported_providers: rules.supported_providers!.map((p, i) => ({
              ...p,
              max_concurrent_sessions: caps[i],
            })),
          };
          const pass = new PassRouting(r, sessions, NOW);
          let all = sessions;
          for (const t of tasks) {
            const got = pass.route(t);
            const want = routeTask(r, all, t, { now: NOW, seed: t.id });
            expect(got.kind).toBe(want.kind);
            expect(got.explanation.summary).toBe(want.explanation.summary);
            expect(got.explanation.fallbacks).toEqual(want.explanation.fallbacks);
            expect(got.explanation.rule).toBe(want.explanation.rule);
            expect(got.explanation.strategy).toBe(want.explanation.strategy);
            if (want.kind !== 'assign') continue;
            expect((got as AssignDecision).session).toBe(want.session);
            pass.assigned(want.session);
            all = all.map((s) =>
              s.name === want.session
                ? {
                    ...s,
                    status: s.status === 'idle' ? 'busy' : s.status,
                    held_tasks: s.held_tasks + 1,
                    last_assigned_at: NOW,
                    assigned_total: s.assigned_total + 1,
                  }
                : s,
            );
            expect(pass.open).toBe(
              all.some(
                (s) =>
                  (s.status === 'idle' || s.status === 'busy') &&
                  s.held_tasks < Math.min(s.capacity, r.load_balancing!.max_tasks_per_session!),
              ),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a dispatcher pass counts full sessions toward provider caps, though it routes among those with room', () => {
    const capped: RoutingRules = {
      ...rules,
      supported_providers: rules.supported_providers!.map((p) => ({ ...p, max_concurrent_sessions: 1 })),
    };
    const sessions = [
      session('w1', { status: 'busy', capacity: 1, held_tasks: 1 }),
      session('w2', { capacity: 1 }),
    ];
    const t = task('bug_fix', { id: 'capped' });
    const pass = new PassRouting(capped, sessions, NOW);
    const got = queued(pass.route(t));
    expect(got.explanation.summary).toBe(
      queued(route(sessions, t, { seed: 'capped' }, capped)).explanation.summary,
    );
    expect(got.explanation.summary).toMatch(/1 provider cap/);
    // once w1's task ends, a new pass may use w2
    const freed = new PassRouting(capped, [session('w1', { capacity: 1 }), sessions[1]!], NOW);
    expect(freed.route(t).kind).toBe('assign');
  });

  it('never throws for any priority or timeout, and rejects exactly the invalid ones', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.double()),
        fc.oneof(fc.integer(), fc.double()),
        (priority, timeout) => {
          const d = route(fixtureSessions(), task('bug_fix', { priority, timeout_minutes: timeout }));
          const valid =
            Number.isInteger(priority) &&
            priority >= 0 &&
            priority <= 10 &&
            Number.isFinite(timeout) &&
            timeout > 0;
          expect(d.kind === 'reject').toBe(!valid);
        },
      ),
    );
  });
});

describe('timing', () => {
  it('prints the p99 of a decision with 1,000 sessions (a measurement, not an assertion)', () => {
    const providers = ['claude', 'codex', 'gemini', 'ollama', 'comet', 'grok'];
    const statuses = ['idle', 'idle', 'busy', 'busy', 'waiting_input', 'offline', 'draining'] as const;
    const sessions = Array.from({ length: 1000 }, (_, i) =>
      session(i < 8 ? fixtureSessions()[i].name : `s${i}`, {
        provider: providers[i % providers.length],
        status: statuses[i % statuses.length],
        held_tasks: i % 6,
        working_dir: `/repo/${i % 20}`,
        last_assigned_at: NOW - i * 1000,
        assigned_total: i % 37,
      }),
    );
    const types = ['bug_fix', 'feature_development', 'testing', 'documentation', 'infrastructure', 'mystery'];
    const times: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const t = task(types[i % types.length], { id: `t${i}`, working_dir: `/repo/${i % 20}` });
      const start = performance.now();
      routeTask(rules, sessions, t, { now: NOW, seed: 'bench' });
      if (i >= 1000) times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.floor(q * (times.length - 1))].toFixed(3);
    console.log(`routeTask, 1,000 sessions: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
  });
});
