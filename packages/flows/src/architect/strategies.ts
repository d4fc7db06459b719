// load_balancing.strategy: how the router ranks sessions that are otherwise equally preferred. Every
// score is "higher is better"; the router breaks equal scores by session name, so a decision depends
// only on its inputs.
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { SessionForRouting } from './model.js';

/** A `load_balancing.strategy`, or `least_busy` (the `alternate_selection` of `all_preferred_sessions_busy`). */
export type StrategyName =
  NonNullable<NonNullable<RoutingRules['load_balancing']>['strategy']> | 'least_busy';

const STRATEGY_NAMES: readonly StrategyName[] = [
  'round_robin',
  'least_loaded',
  'least_busy',
  'weighted',
  'weighted_round_robin',
  'random',
];

/** `name` as a strategy, or undefined when it names none (an `alternate_selection` may be any text). */
export function asStrategy(name: string | undefined): StrategyName | undefined {
  return STRATEGY_NAMES.find((s) => s === name);
}

/** The strategy when `load_balancing.strategy` is not set: it spreads work even when every session is idle. */
export const DEFAULT_STRATEGY: StrategyName = 'round_robin';

/** The weight of a provider that `load_balancing.weights` does not list. */
export const DEFAULT_WEIGHT = 1;

/** How a strategy ranks a session that holds `held_tasks` of at most `limit` tasks. */
export interface Strategy {
  readonly name: StrategyName;
  /** Higher is better. */
  score(session: SessionForRouting, limit: number): number;
  /** The reason the explanation gives for `score` (rendered only when an explanation is read). */
  describe(session: SessionForRouting, limit: number, score: number): string;
}

/**
 * The strategy `name`. `now` dates round robin's last assignments; `seed` and `taskId` key the draws
 * of `random` and `weighted`, one per session, so a draw does not depend on the order of the sessions
 * and a task routed again with the same seed gets the same draws.
 */
export function strategyFor(
  name: StrategyName,
  weights: Readonly<Record<string, number>> | undefined,
  context: { now: number; seed: string; taskId: string },
): Strategy {
  const weightOf = (provider: string) => weights?.[provider] ?? DEFAULT_WEIGHT;
  const prefix = `${context.seed}\u0000${context.taskId}\u0000`;
  switch (name) {
    case 'round_robin':
      return {
        name,
        // Never assigned (0) scores highest of all.
        score: (s) => (context.now - s.last_assigned_at) / 1000,
        describe: (s) =>
          s.last_assigned_at > 0
            ? `round_robin: last assigned ${ago(context.now - s.last_assigned_at)} ago`
            : 'round_robin: never assigned',
      };
    case 'least_loaded':
    case 'least_busy':
      return {
        name,
        score: (s, limit) => 1 - s.held_tasks / limit,
        describe: (s, limit) => `${name}: ${s.held_tasks}/${limit} tasks`,
      };
    case 'weighted':
      // One weighted draw (Efraimidis–Spirakis): the largest u^(1/w) wins with probability w / Σw.
      return {
        name,
        score: (s) => {
          const w = weightOf(s.provider);
          return w > 0 ? seededUnit(prefix + s.name) ** (1 / w) : 0;
        },
        describe: (s, _limit, score) =>
          `weighted: weight ${weightOf(s.provider)} (${s.provider}), draw ${score.toFixed(3)}`,
      };
    case 'weighted_round_robin':
      // The session furthest below its share: each session's share of assignments follows its weight.
      return {
        name,
        score: (s) => weightOf(s.provider) / (s.assigned_total + 1),
        describe: (s) =>
          `weighted_round_robin: ${s.assigned_total} assigned, weight ${weightOf(s.provider)} (${s.provider})`,
      };
    case 'random':
      return {
        name,
        score: (s) => seededUnit(prefix + s.name),
        describe: (_s, _limit, score) => `random: draw ${score.toFixed(3)}`,
      };
  }
}

/** A number in [0, 1) determined by `key` alone: FNV-1a in two lanes, each finished by murmur3's fmix32. */
function seededUnit(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hi = fmix32(a ^ fmix32(b)) >>> 11; // 21 bits
  const lo = fmix32(b ^ a) >>> 0; // 32 bits
  return (hi * 2 ** 32 + lo) / 2 ** 53;
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function ago(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`;
}
