// What a YAML workflow's expressions can read: `input`, `steps.<id>`, `vars`, `config`, `env`, `now`,
// `query` (the last query step's result), and `item`/`index` inside a foreach. `config` is the
// snapshot taken at start, with the seed's two shorthands as documented aliases.

/** The names an expression may start with; anything else is a validation error. */
export const SCOPE_NAMES = [
  'input',
  'steps',
  'vars',
  'config',
  'env',
  'now',
  'query',
  'item',
  'index',
  'error',
];

/** The configuration kinds a workflow reads, and the environment variables it may read, at start. */
export interface Snapshot {
  readonly config: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string>>;
}

type Plain = Record<string, unknown>;

const isMap = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `config.routing_rules.<task_type>` reads `routing_rules.environment_routing.<task_type>`: the task
 * types are added beside the kind's own keys (which win on a clash).
 */
function routingRulesView(kind: Plain): Plain {
  const byType = isMap(kind.environment_routing) ? kind.environment_routing : {};
  return { ...byType, ...kind };
}

/**
 * `config.sla_rules[<type>]` reads `sla_rules.sla_targets[<type>]`, and `sla_targets.default` for a
 * type with no target of its own. The kind's own keys (`escalation_rules`, …) read as written.
 * A proxy over a fresh copy: the expression language reads own fields only, and the fallback must be one.
 */
function slaRulesView(kind: Plain): Plain {
  const targets = isMap(kind.sla_targets) ? kind.sla_targets : {};
  const base: Plain = { ...targets, ...kind };
  const fallback = targets.default;
  if (fallback === undefined) return base;
  const pick = (key: string | symbol): unknown =>
    typeof key === 'symbol' || Object.hasOwn(base, key) ? base[key as string] : fallback;
  return new Proxy(base, {
    get: (target, key) => (typeof key === 'symbol' ? Reflect.get(target, key) : pick(key)),
    has: () => true,
    getOwnPropertyDescriptor: (target, key) =>
      typeof key === 'symbol'
        ? Reflect.getOwnPropertyDescriptor(target, key)
        : { value: pick(key), writable: false, enumerable: Object.hasOwn(target, key), configurable: true },
  });
}

/** `config` as expressions see it: the snapshot, with the seed's shorthands. */
export function configView(config: Readonly<Record<string, unknown>>): Plain {
  const out: Plain = { ...config };
  if (isMap(config.routing_rules)) out.routing_rules = routingRulesView(config.routing_rules);
  if (isMap(config.sla_rules)) out.sla_rules = slaRulesView(config.sla_rules);
  return out;
}

/** The variables of one run (or one foreach item) that templates read. */
export interface Scope {
  readonly input: unknown;
  readonly steps: Plain;
  readonly vars: Plain;
  readonly config: Plain;
  readonly env: Readonly<Record<string, string>>;
  now: number;
  query: unknown;
  item?: unknown;
  index?: number;
  error?: unknown;
}

/** The scope of a new run; `config` is {@link configView} of the run's snapshot. */
export function newScope(
  input: unknown,
  config: Plain,
  env: Readonly<Record<string, string>>,
  now: number,
): Scope {
  return {
    input,
    steps: {},
    vars: {},
    config,
    env,
    now,
    query: null,
    // The failure a `finally` step reads; `{}` until then, so `error.code` reads null.
    error: {},
  };
}

/** A scope for one foreach item: its own `item` and `index`; steps and vars are shared. */
export function itemScope(scope: Scope, item: unknown, index: number): Scope {
  return { ...scope, item, index };
}
