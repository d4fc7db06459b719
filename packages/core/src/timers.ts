/** Node runs a timer longer than this (2^31-1 ms, about 24.8 days) at once, with only a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms`, however long that is: a longer wait is chained through timers Node can
 * hold. Returns a function that cancels it.
 */
export function after(ms: number, fn: () => void): () => void {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fn, left);
  };
  arm(ms);
  return () => clearTimeout(t);
}
