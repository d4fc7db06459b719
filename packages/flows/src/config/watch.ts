// Hot reload: watches a configuration directory, reloads it as a whole after a burst of changes, and
// swaps the new configuration in only when it is valid.
import { watch, existsSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@baton/core';
import { ConfigError, formatDiagnostic } from './diagnostics.js';
import { loadConfigSync } from './load.js';
import { formatPath, type PathSegment } from './paths.js';
import type { Config } from './config.js';

/** A reload that took effect. */
export interface ConfigChange {
  readonly config: Config;
  readonly previous: Config;
  /** The key paths whose value changed, appeared or disappeared (the deepest that differ), sorted. */
  readonly changed: readonly string[];
}

export interface WatchOptions {
  /** Quiet time after the last file event before reloading (default 100 ms): an editor's burst is one reload. */
  debounceMs?: number;
  /** Called when an edit is rejected (the last good configuration stays). */
  onError?: (error: Error) => void;
  /** Where rejected edits are logged (default: the load's logger, else a new one). */
  logger?: Logger;
}

/** A live configuration: `current` is the last good one. */
export class ConfigWatcher {
  private latest: Config;
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  /** Reloads that took effect and reloads rejected, for tests and status pages. */
  readonly counts = { applied: 0, rejected: 0, unchanged: 0 };

  constructor(
    initial: Config,
    private readonly onChange: (change: ConfigChange) => void,
    private readonly options: WatchOptions,
  ) {
    this.latest = initial;
    this.debounceMs = options.debounceMs ?? 100;
    this.logger = options.logger ?? initial.options.logger ?? createLogger();
    this.rewatch();
  }

  /** The last configuration that loaded without error. */
  get current(): Config {
    return this.latest;
  }

  /** Stops watching. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Reloads now (also what a file event leads to). Returns the change, or undefined if rejected or unchanged. */
  reload(): ConfigChange | undefined {
    const previous = this.latest;
    let next: Config;
    try {
      next = loadConfigSync(previous.dir, previous.options);
    } catch (err) {
      this.counts.rejected++;
      const lines =
        err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [(err as Error).message];
      this.logger.error(
        { dir: previous.dir, errors: lines },
        `configuration change rejected, the last good configuration stays: ${lines[0]}`,
      );
      this.options.onError?.(err as Error);
      return undefined;
    }
    const changed = diffPaths(previous.value, next.value, []);
    // Swapped in even when no value changed (a comment edited): locations and warnings move with the file.
    this.latest = next;
    if (changed.length === 0) {
      this.counts.unchanged++;
      return undefined;
    }
    this.counts.applied++;
    const change = { config: next, previous, changed };
    try {
      this.onChange(change);
    } catch (err) {
      // A subscriber's bug must not take the process (or the next reloads) down with it.
      this.logger.error({ err, dir: previous.dir }, 'a configuration subscriber threw');
    }
    return change;
  }

  // One non-recursive watcher per folder (the directory itself sees base/, local/ … appear or go).
  private rewatch(): void {
    const dir = this.latest.dir;
    for (const [folder, w] of this.watchers) {
      // A folder removed (and perhaps made again) needs a new watcher: the old one saw its inode go.
      if (!existsSync(folder)) {
        w.close();
        this.watchers.delete(folder);
      }
    }
    for (const folder of [dir, join(dir, 'base'), join(dir, 'environments'), join(dir, 'local')]) {
      if (this.watchers.has(folder) || !existsSync(folder)) continue;
      try {
        const w = watch(folder, (event) => {
          if (event === 'rename' && !existsSync(folder)) {
            w.close();
            this.watchers.delete(folder);
          }
          this.schedule();
        });
        w.on('error', () => {
          w.close();
          this.watchers.delete(folder);
        });
        this.watchers.set(folder, w);
      } catch {
        // The folder vanished between the check and the watch: the directory's watcher sees it come back.
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closed) return;
      this.rewatch();
      this.reload();
    }, this.debounceMs);
  }
}

/** The deepest paths at which two plain values differ. */
export function diffPaths(a: unknown, b: unknown, at: PathSegment[]): string[] {
  if (Object.is(a, b)) return [];
  const bothObjects =
    a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return [formatPath(at)];
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  const out: string[] = [];
  for (const k of keys) {
    const seg: PathSegment = Array.isArray(a) ? Number(k) : k;
    out.push(...diffPaths(ao[k], bo[k], [...at, seg]));
  }
  return at.length === 0 ? out.sort() : out;
}
