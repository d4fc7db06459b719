// The shapes shared by the configuration loader and its users (named queries, the CLI, later the
// router and the server). The loader produces them; nothing here reads files.
import type { KindName, ConfigValue } from './kinds/index.js';

export type { KindName, ConfigValue };

/** A place in a configuration file; `line` and `col` count from 1. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One error or warning about the configuration, with where it is and the key path it concerns. */
export interface ConfigDiagnostic extends SourceLocation {
  readonly severity: 'error' | 'warning';
  /** The merged key path, kind first (`routing_rules.environment_routing.bug_fix.priority`); '' for a whole file. */
  readonly path: string;
  readonly message: string;
}

/**
 * What a component needs from a loaded configuration: its directory, the validated value, and where
 * each value was set. `Config` (the loader's result) implements it; tests of a component may build
 * one by hand.
 */
export interface ConfigView {
  /** The configuration directory, absolute. Relative paths in values (a SQLite file) resolve against it. */
  readonly dir: string;
  /** The merged, validated configuration, addressed by kind. Frozen. */
  readonly value: ConfigValue;
  /** Where the value at `path` (kind first, dot-separated) was set, if it came from a file. */
  locate(path: string): SourceLocation | undefined;
  /** The environment variables that left the value at `path` null because they are unset (none if it did not come from one). */
  unsetVariables?(path: string): readonly string[];
}
