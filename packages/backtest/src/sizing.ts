// Position sizing by risk per trade (spec section 6): a Kelly fraction of the base units, capped by
// the largest loss a trade may cost.

export interface SizingInput {
  equity: number;
  pip_value: number;
  risk_per_trade_pct: number;
  kelly_fraction: number;
  units_cap: number;
  max_trade_loss_pct: number;
  size_floor_mult: number;
}

function perPipRisk(s: SizingInput, slPips: number): number {
  return Math.max(s.pip_value * slPips, 1e-9);
}

function baseUnits(s: SizingInput, slPips: number): number {
  return Math.max(0, (s.equity * (s.risk_per_trade_pct / 100)) / perPipRisk(s, slPips));
}

function guarded(s: SizingInput, slPips: number, units: number): number {
  const cap = (s.equity * (s.max_trade_loss_pct / 100)) / perPipRisk(s, slPips);
  return Math.max(0, Math.min(units, cap, s.units_cap));
}

/** Production size for win probability `p` (6.2). */
export function productionSize(s: SizingInput, p: number, tpPips: number, slPips: number): number {
  const b = tpPips / Math.max(slPips, 1e-9);
  const f = Math.max(0, p - (1 - p) / b);
  const mult = Math.min(s.units_cap, s.kelly_fraction * f);
  return guarded(s, slPips, baseUnits(s, slPips) * mult);
}

/** Warm-up size (6.3): 5% of the base units. */
export function warmupSize(s: SizingInput, slPips: number): number {
  return guarded(s, slPips, baseUnits(s, slPips) * 0.05);
}

/** Floor size (6.3), used only by the runner's sizing gate in ev_mode off. */
export function floorSize(s: SizingInput, slPips: number): number {
  return guarded(s, slPips, baseUnits(s, slPips) * s.size_floor_mult);
}
