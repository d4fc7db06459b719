// State that key handlers read as it is now. ink subscribes a component's key handler again only
// after a render commits, and keys (a fast typist, a paste) can come faster than renders: a handler
// that read the render's state would act on a value already replaced.
import { useRef, useState, type MutableRefObject } from 'react';

/**
 * `[shown, now, set]`: `shown` is what the render draws, `now.current` what handlers read, and
 * `set` changes both (given a function, it applies it to the current value).
 */
export function useKeyState<T>(
  initial: T,
): [shown: T, now: MutableRefObject<T>, set: (next: T | ((current: T) => T)) => void] {
  const now = useRef(initial);
  const [shown, setShown] = useState(initial);
  const set = (next: T | ((current: T) => T)) => {
    now.current = typeof next === 'function' ? (next as (current: T) => T)(now.current) : next;
    setShown(now.current);
  };
  return [shown, now, set];
}
