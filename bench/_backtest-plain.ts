// The peer of `npm run bench -- backtest`: the Day ORB logic for the sample manifest's settings
// (conservative fills, EV gate off, expected slip on) written as one plain loop over typed arrays,
// with no objects, options or records. Baton's runner must give the same trades; its time is the
// reference Baton's runner is measured against.
import type { Bars, RunSettings } from '@baton/backtest';

export interface PlainResult {
  trades: number;
  totalPips: number;
}

export function plainDayOrb(b: Bars, s: RunSettings): PlainResult {
  const p = s.strategy;
  const r = s.runner;
  const pip = 0.01;
  const pv = 10;
  const n = b.length;
  const tr = new Float64Array(n);
  const vc = new Float64Array(n);
  const vh = new Float64Array(n);
  const vl = new Float64Array(n);
  const slipA = [r.slip_curve.narrow.a, r.slip_curve.normal.a, r.slip_curve.wide.a];
  const qEwma = [0, 0, 0];
  let k = -1;
  let lastSession = -1;
  let date = '';
  let sessStart = 0;
  let orH = NaN;
  let orL = NaN;
  let inOr = true;
  let broken = false;
  let equity = s.equity;
  let lossStreak = 0;
  let dailyLoss = 0;
  let dailyTrades = 0;
  let trades = 0;
  let totalPips = 0;
  // open position
  let pos = 0;
  let pEntry = 0;
  let pTp = 0;
  let pSl = 0;
  let pTrail = 0;
  let pQty = 0;
  let pHh = 0;
  let pLl = 0;
  let pHold = 0;
  let pSpread = 0;
  let pBand = 0;

  const close = (exit: number, side: number, entry: number, qty: number, spread: number, band: number) => {
    const est = Math.max(0, slipA[band]! * qty);
    const unit = ((exit - entry) * side) / pip - (spread + est);
    const pnl = unit * qty;
    equity += unit * pv * qty;
    trades++;
    totalPips += pnl;
    dailyTrades++;
    if (pnl <= 0) {
      lossStreak++;
      if (pnl < 0) dailyLoss += pnl;
    } else lossStreak = 0;
  };

  for (let i = 0; i < n; i++) {
    const o = b.o[i]!,
      h = b.h[i]!,
      l = b.l[i]!,
      c = b.c[i]!;
    if (!(l <= Math.min(o, c) && h >= Math.max(o, c) && l <= h)) continue;
    k++;
    vh[k] = h;
    vl[k] = l;
    vc[k] = c;
    tr[k] = k === 0 ? NaN : Math.max(h - l, Math.abs(h - vc[k - 1]!), Math.abs(l - vc[k - 1]!));
    const ts = b.ts[i]!;
    const hour = (ts.charCodeAt(11) - 48) * 10 + ts.charCodeAt(12) - 48;
    const session = hour >= 8 && hour <= 12 ? 1 : hour >= 13 && hour <= 21 ? 2 : 0;
    const newSession = session !== lastSession;
    lastSession = session;
    if (date === '' || !ts.startsWith(date)) {
      date = ts.slice(0, 10);
      dailyLoss = dailyTrades = 0;
    }
    if (newSession) sessStart = k;
    if (pos !== 0) {
      if (pos === 1) {
        pHh = Math.max(pHh, h);
        pSl = Math.max(pSl, pHh - pTrail * pip);
      } else {
        pLl = Math.min(pLl, l);
        pSl = Math.min(pSl, pLl + pTrail * pip);
      }
      const slHit = pos === 1 ? l <= pSl : h >= pSl;
      const tpHit = pos === 1 ? h >= pTp : l <= pTp;
      if (slHit) close(pSl, pos, pEntry, pQty, pSpread, pBand);
      else if (tpHit) close(pTp, pos, pEntry, pQty, pSpread, pBand);
      else if ((++pHold, newSession)) close(o, pos, pEntry, pQty, pSpread, pBand);
      else if (pHold >= r.max_hold_bars) close(o, pos, pEntry, pQty, pSpread, pBand);
      else continue;
      pos = 0;
      continue;
    }
    // strategy update
    if (newSession) {
      orH = orL = NaN;
      inOr = true;
      broken = false;
    }
    const sessionBars = k - sessStart + 1;
    if (sessionBars < p.or_n) inOr = true;
    else if (inOr) {
      orH = -Infinity;
      orL = Infinity;
      for (let j = sessStart; j < sessStart + p.or_n; j++) {
        if (vh[j]! > orH) orH = vh[j]!;
        if (vl[j]! < orL) orL = vl[j]!;
      }
      inOr = false;
    }
    if (orH !== orH || broken) continue;
    const side = h >= orH ? 1 : l <= orL ? -1 : 0;
    if (side === 0) continue;
    // features
    let atr = NaN;
    if (k >= 14) {
      let sum = 0;
      for (let j = k - 13; j <= k; j++) sum += tr[j]!;
      atr = sum / 14;
    }
    const atrPips = (atr === atr ? atr : 0) / pip;
    let rv = 0;
    if (k >= 12) {
      let rsq = 0;
      for (let j = k - 11; j <= k; j++) {
        const x = Math.log(vc[j]! / vc[j - 1]!);
        rsq += x * x;
      }
      rv = Math.sqrt(rsq) * Math.sqrt(288);
    }
    const rvb = rv <= r.rv_band_cuts[0] ? 0 : rv <= r.rv_band_cuts[1] ? 1 : 2;
    const ratio = atr > 0 ? (orH - orL) / atr : 0;
    const spread = b.spread[i]! / pip;
    const band = spread <= 0.5 + 1e-9 ? 0 : spread <= 1.2 + 1e-9 ? 1 : 2;
    // gates
    if (ratio < r.min_or_atr_ratio) continue;
    if (rvb === 0 && !r.allow_low_rv) continue;
    if (session === 2 && rvb === 2 && ratio < (p.ny_high_rv_min_or_atr_ratio ?? 0)) continue;
    if (session === 0 || band === 2) continue;
    const q = qEwma[band]! > 0 ? qEwma[band]! : 1;
    if (Math.max(0, slipA[band]! * q) > r.slip_cap_pip) continue;
    const tpPips = p.k_tp * atrPips;
    const slPips = p.k_sl * atrPips;
    const trail = p.k_tr * atrPips;
    if (p.max_loss_streak !== 0 && lossStreak >= p.max_loss_streak) continue;
    if (p.max_daily_loss_pips > 0 && dailyLoss < 0 && -dailyLoss >= p.max_daily_loss_pips) continue;
    if (p.max_daily_trade_count !== 0 && dailyTrades >= p.max_daily_trade_count) continue;
    const bandName = rvb === 0 ? 'low' : rvb === 1 ? 'mid' : 'high';
    const minAtr = p.rv_band_min_atr_pips[bandName] ?? p.min_atr_pips;
    const maxAtr = p.rv_band_max_atr_pips[bandName] ?? p.max_atr_pips;
    if ((minAtr !== 0 && atrPips < minAtr) || (maxAtr !== 0 && atrPips > maxAtr)) continue;
    const risk = Math.max(pv * slPips, 1e-9);
    const base = Math.max(0, (equity * (r.risk_per_trade_pct / 100)) / risk);
    const kelly = Math.max(
      0,
      p.fallback_win_rate - (1 - p.fallback_win_rate) / (tpPips / Math.max(slPips, 1e-9)),
    );
    const qty = Math.max(0, Math.min(base * Math.min(5, 0.25 * kelly), (equity * 0.005) / risk, 5));
    if (qty <= 0) continue;
    broken = true;
    // entry bar
    const level = side === 1 ? orH : orL;
    const fill = side === 1 ? Math.min(h, level + 1.5 * pip) : Math.max(l, level - 1.5 * pip);
    slipA[band] = 0.9 * slipA[band]! + 0.1 * (Math.abs(fill - level) / pip / Math.max(qty, 1e-9));
    qEwma[band] = 0.9 * qEwma[band]! + 0.1 * qty;
    const tpPx = level + side * tpPips * pip;
    const slPx = level - side * slPips * pip;
    let stop = NaN;
    if (trail > 0 && (side === 1 ? h >= level + trail * pip : l <= level - trail * pip)) {
      const t = side === 1 ? Math.max(slPx, h - trail * pip) : Math.min(slPx, l + trail * pip);
      if (side === 1 ? l <= t : h >= t) stop = t;
    }
    if (stop !== stop && (side === 1 ? l <= slPx : h >= slPx)) stop = slPx;
    const tpHit = side === 1 ? h >= tpPx : l <= tpPx;
    if (stop === stop) close(stop, side, fill, qty, spread, band);
    else if (tpHit) close(tpPx, side, fill, qty, spread, band);
    else {
      pos = side;
      pEntry = fill;
      pTp = fill + side * tpPips * pip;
      pSl = fill - side * slPips * pip;
      pTrail = trail;
      pQty = qty;
      pHh = h;
      pLl = l;
      pHold = 0;
      pSpread = spread;
      pBand = band;
    }
  }
  return { trades, totalPips };
}
