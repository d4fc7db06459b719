/**
 * The indicator registry: every built-in indicator plus user-registered ones, by id
 * and alias. The expression language, CLI, docs and validators are driven from it.
 */
import { TaError } from './errors.js';
import type { Indicator, IndicatorMeta, ParamSpec } from './indicator.js';
import { BUILTINS } from './indicators/index.js';

const byName = new Map<string, Indicator>();
const ordered: Indicator[] = [];
const builtinIds = new Set<string>();

function key(name: string): string {
  return name.toLowerCase();
}

function validateMeta(ind: Indicator): void {
  const bad = (why: string): never => {
    throw new TaError('E_PARAM_INVALID', `cannot register indicator "${String(ind?.id)}": ${why}`, {
      details: { indicator: String(ind?.id) },
    });
  };
  if (!ind || typeof ind !== 'object') bad('not an indicator object');
  if (typeof ind.id !== 'string' || !/^[a-z_][a-z0-9_]*$/i.test(ind.id))
    bad('id must be an identifier (letters, digits, underscore)');
  if (
    !Array.isArray(ind.aliases) ||
    ind.aliases.some((a) => typeof a !== 'string' || !/^[a-z_][a-z0-9_]*$/i.test(a))
  )
    bad('aliases must be identifiers');
  if (!Array.isArray(ind.inputs) || ind.inputs.length === 0) bad('needs at least one input');
  if (!Array.isArray(ind.outputs) || ind.outputs.length === 0) bad('needs at least one output');
  if (!Array.isArray(ind.params)) bad('params must be an array');
  for (const p of ind.params as readonly ParamSpec[]) {
    if (
      typeof p.name !== 'string' ||
      (p.type !== 'int' && p.type !== 'float') ||
      !(p.min <= p.default && p.default <= p.max)
    ) {
      bad(`parameter "${String(p?.name)}" needs a name, a type of int or float, and min ≤ default ≤ max`);
    }
  }
  if (typeof ind.compute !== 'function' || typeof ind.lookback !== 'function')
    bad('compute() and lookback() are required');
}

/**
 * Registers a user-defined indicator. Its id and aliases must not clash with any
 * registered id or alias (case-insensitive): `E_DUPLICATE_INDICATOR`.
 * Indicators without a streaming machine still stream, by recomputation.
 */
export function registerIndicator(ind: Indicator): void {
  validateMeta(ind);
  for (const name of [ind.id, ...ind.aliases]) {
    const existing = byName.get(key(name));
    if (existing) {
      throw new TaError(
        'E_DUPLICATE_INDICATOR',
        `cannot register "${ind.id}": the name "${name}" is already taken by "${existing.id}"; pick another id or alias`,
        {
          details: { indicator: ind.id, name, existing: existing.id },
        },
      );
    }
  }
  for (const name of [ind.id, ...ind.aliases]) byName.set(key(name), ind);
  ordered.push(ind);
}

/** Removes a user-registered indicator (built-ins cannot be removed). Returns whether it existed. */
export function unregisterIndicator(id: string): boolean {
  const ind = byName.get(key(id));
  if (!ind || ind.id.toLowerCase() !== key(id)) return false;
  if (builtinIds.has(key(ind.id))) {
    throw new TaError('E_PARAM_INVALID', `"${ind.id}" is a built-in indicator and cannot be unregistered`);
  }
  for (const name of [ind.id, ...ind.aliases]) byName.delete(key(name));
  ordered.splice(ordered.indexOf(ind), 1);
  return true;
}

/** Looks an indicator up by id or alias (case-insensitive). */
export function getIndicator(idOrAlias: string): Indicator | undefined {
  return byName.get(key(idOrAlias));
}

/** Every registered indicator: built-ins first (by group), then user ones in registration order. */
export function listIndicators(): Indicator[] {
  return [...ordered];
}

/** Metadata of one indicator as plain JSON, with the lookback at default parameters. */
export interface IndicatorJSON extends IndicatorMeta {
  /** Lookback with default parameters. */
  readonly lookback: number;
  readonly builtin: boolean;
}

/** Registry metadata export (JSON-serializable). */
export function registryToJSON(): { version: 1; indicators: IndicatorJSON[] } {
  return {
    version: 1,
    indicators: ordered.map((ind) => ({
      id: ind.id,
      aliases: [...ind.aliases],
      group: ind.group,
      description: ind.description,
      inputs: [...ind.inputs],
      params: ind.params.map((p) => ({ ...p })),
      outputs: [...ind.outputs],
      lookback: ind.lookback({}),
      builtin: builtinIds.has(key(ind.id)),
    })),
  };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return row[b.length];
}

/** Nearest registered id or alias for a "did you mean" hint; undefined when nothing is close. */
export function suggestName(name: string): string | undefined {
  const q = key(name);
  let best: string | undefined;
  let bestD = Infinity;
  for (const candidate of byName.keys()) {
    const d = distance(q, candidate);
    if (d < bestD) {
      bestD = d;
      best = candidate;
    }
  }
  const limit = Math.max(1, Math.floor(q.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

for (const ind of BUILTINS) {
  registerIndicator(ind);
  builtinIds.add(key(ind.id));
}
