// A loaded configuration: the validated value per kind, its warnings, and where each value came from.
import { BatonError, digestOf, sortedJson } from '@baton/core';
import { parsePath, valueAt, formatPath, joinPath } from './paths.js';
import { MASK, redactText, type ExplainEntry, type Provenance } from './provenance.js';
import { formatLocation } from './diagnostics.js';
import { ConfigWatcher, type WatchOptions, type ConfigChange } from './watch.js';
import type { ConfigDiagnostic, ConfigView, SourceLocation } from './types.js';
import type { ConfigValue } from './kinds/index.js';
import type { LoadOptions } from './load.js';

interface ConfigParts {
  dir: string;
  environment: string;
  value: ConfigValue;
  warnings: readonly ConfigDiagnostic[];
  files: readonly string[];
  provenance: Provenance;
  options: LoadOptions;
}

/**
 * A merged, validated configuration. Immutable: a reload (see {@link Config.watch}) produces a new
 * Config. Paths are kind first, dot-separated, with list items as `[0]`:
 * `routing_rules.environment_routing.bug_fix.priority`.
 */
export class Config implements ConfigView {
  /** The configuration directory, absolute. */
  readonly dir: string;
  /** The environment whose overrides applied (BATON_ENV). */
  readonly environment: string;
  /** The merged, validated value, one entry per kind that some file defined. Deeply frozen. */
  readonly value: ConfigValue;
  /** Unknown keys, unset variables, ignored or empty overlay files. */
  readonly warnings: readonly ConfigDiagnostic[];
  /** The files loaded, in merge order. */
  readonly files: readonly string[];
  /** @internal The options it was loaded with (a watcher reloads with the same). */
  readonly options: LoadOptions;
  private readonly provenance: Provenance;

  /** @internal Built by loadConfig. */
  constructor(parts: ConfigParts) {
    this.dir = parts.dir;
    this.environment = parts.environment;
    this.value = parts.value;
    this.warnings = parts.warnings;
    this.files = parts.files;
    this.provenance = parts.provenance;
    this.options = parts.options;
  }

  /**
   * `sha256:<hex>` of the environment and the merged value as canonical JSON: equal configurations
   * hash equally whatever files and key order they came from. Run manifests record it.
   */
  get hash(): string {
    return digestOf(
      Buffer.from(sortedJson({ environment: this.environment, value: this.value }) ?? 'null', 'utf8'),
    );
  }

  /** The value at `path` (the whole configuration when omitted); undefined when nothing sets it. */
  get(path?: string): unknown {
    return path ? valueAt(this.value, parsePath(path)) : this.value;
  }

  /**
   * The value at `path` for a component that needs it. Throws `E_CONFIG_INVALID` when it is missing,
   * or null because the environment variable it refers to is unset, naming the variable and the file.
   */
  require(path: string): unknown {
    const v = this.get(path);
    if (v !== undefined && v !== null) return v;
    const canonical = formatPath(parsePath(path));
    const env = this.provenance.envOf(canonical);
    const loc = this.locate(canonical);
    if (env?.unset.length) {
      throw new BatonError(
        'E_CONFIG_INVALID',
        `${canonical} is needed but the environment variable ${env.unset.join(', ')} it refers to is not set (${formatLocation(loc!)}: ${env.raw}); set it and restart, or give a default`,
        { details: { path: canonical, variables: env.unset } },
      );
    }
    throw new BatonError(
      'E_CONFIG_INVALID',
      `${canonical} is needed but ${loc ? `is null at ${formatLocation(loc)}` : `no file under ${this.dir} sets it`}`,
      { details: { path: canonical } },
    );
  }

  /** The environment variables that left the value at `path` null because they are unset. */
  unsetVariables(path: string): readonly string[] {
    return this.provenance.envOf(formatPath(parsePath(path)))?.unset ?? [];
  }

  /** Every environment variable the value at `path` names (`${A:-${B}}`: A and B), in order. */
  variablesOf(path: string): readonly string[] {
    return this.provenance.envOf(formatPath(parsePath(path)))?.vars ?? [];
  }

  /** Where the value at `path` was set (the last file that set it). */
  locate(path: string): SourceLocation | undefined {
    return this.provenance.locate(formatPath(parsePath(path)));
  }

  /**
   * Where character `offset` of the string at `path` was written: a YAML workflow's templates point
   * their errors at the failing character. The value's own location when it cannot be mapped.
   */
  locateChar(path: string, offset: number): SourceLocation | undefined {
    return this.provenance.locateChar(formatPath(parsePath(path)), offset);
  }

  /**
   * For every leaf at or below `path` (everything when omitted): its value, the file:line:col that
   * set it, the values it overrode, and the environment variables it came through. Secrets read
   * from the environment (keys named *key*, *token*, *secret*, *password*) are masked.
   */
  explain(path?: string): ExplainEntry[] {
    if (!path) return [...this.provenance.entries];
    const p = formatPath(parsePath(path));
    return this.provenance.entries.filter(
      (e) => e.path === p || e.path.startsWith(`${p}.`) || e.path.startsWith(`${p}[`),
    );
  }

  /**
   * The value at `path` as `get` returns it, for display: secrets read from the environment masked, and
   * the password of any URL hidden.
   */
  masked(path?: string): unknown {
    const walk = (v: unknown, p: string): unknown => {
      if (v !== null && v !== undefined && this.provenance.isSecret(p)) return MASK;
      if (Array.isArray(v)) return v.map((x, i) => walk(x, joinPath(p, i)));
      if (v && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, joinPath(p, k))]));
      }
      return redactText(v);
    };
    return walk(this.get(path), path ? formatPath(parsePath(path)) : '');
  }

  /**
   * Watches the directory and reloads on change. A change is loaded and validated as a whole, then
   * swapped in; a bad edit is logged with its location and the last good configuration stays
   * (`watcher.current`). `onChange` gets the new configuration and the key paths that changed.
   */
  watch(onChange: (change: ConfigChange) => void, options: WatchOptions = {}): ConfigWatcher {
    return new ConfigWatcher(this, onChange, options);
  }
}
