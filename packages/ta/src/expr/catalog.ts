/**
 * Where the expression language finds its functions. The default catalog is the
 * @baton/ta registry; tests and embedders can pass their own.
 */
import type { Indicator } from '../indicator.js';
import { getIndicator, listIndicators } from '../registry.js';

/** Lookup of callable indicators by id or alias. */
export interface IndicatorCatalog {
  /** The indicator registered under `idOrAlias`, or undefined. */
  get(idOrAlias: string): Indicator | undefined;
  /** Every callable name (ids and aliases), for "did you mean" suggestions. */
  names(): Iterable<string>;
}

/** A catalog over a fixed list of indicators (ids and aliases are both callable, case-insensitively, like the registry). */
export function catalogOf(indicators: Iterable<Indicator>): IndicatorCatalog {
  const byName = new Map<string, Indicator>();
  const list = [...indicators];
  for (const ind of list) {
    byName.set(ind.id.toLowerCase(), ind);
    for (const a of ind.aliases) byName.set(a.toLowerCase(), ind);
  }
  return {
    get: (name) => byName.get(name.toLowerCase()),
    names: () => [...list.map((i) => i.id), ...list.flatMap((i) => i.aliases)],
  };
}

/** The @baton/ta registry (built-ins plus `registerIndicator` additions), read live. */
export const registryCatalog: IndicatorCatalog = {
  get: (name) => getIndicator(name),
  names: () => {
    const all = listIndicators();
    return [...all.map((i) => i.id), ...all.flatMap((i) => i.aliases)];
  },
};
