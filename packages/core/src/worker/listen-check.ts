import { newId } from '../ids.js';
import type { Driver } from '../driver/types.js';

/**
 * Sends a NOTIFY to itself and waits up to `timeoutMs` for it: false means LISTEN does not reach
 * this connection (a transaction pooler such as PgBouncer drops it) and the worker must poll.
 */
export async function listenReachesUs(driver: Driver, timeoutMs = 2000): Promise<boolean> {
  const token = newId();
  let heard!: () => void;
  const arrived = new Promise<boolean>((resolve) => (heard = () => resolve(true)));
  const off = await driver.listen('baton_selfcheck', (p) => {
    if (p === token) heard();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await driver.notify('baton_selfcheck', token);
    return await Promise.race([
      arrived,
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
    await off();
  }
}
