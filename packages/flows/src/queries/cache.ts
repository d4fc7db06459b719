// The result cache: entries per query and parameter values, each with its own expiry.

/** Entries kept at most; beyond, the oldest inserted goes first. */
const MAX_ENTRIES = 10_000;

/** A map whose entries expire; time comes from `now` (ms), so tests can move it. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(private readonly now: () => number) {}

  /** The value stored under `key`, unless it has expired (it is then dropped). */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() < e.expires) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Stores `value` under `key` for `ttlMs`. */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
