// Errors and warnings about configuration files, formatted as `file:line:col: severity [code] path: message`.
import { relative, isAbsolute } from 'node:path';
import { BatonError } from '@baton/core';
import type { ConfigDiagnostic, SourceLocation } from './types.js';

/** A file name as a person wants to read it: relative to the working directory when it is inside it. */
export function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** `file:line:col` of a location. */
export function formatLocation(loc: SourceLocation): string {
  return `${displayPath(loc.file)}:${loc.line}:${loc.col}`;
}

/** One diagnostic as one line: `file:line:col: error [E_CONFIG_INVALID] path: message`. */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const path = d.path ? `${d.path}: ` : '';
  return `${formatLocation(d)}: ${d.severity} [E_CONFIG_INVALID] ${path}${d.message}`;
}

/** Collects the diagnostics of one load, in the order they were found. */
export class Diagnostics {
  readonly list: ConfigDiagnostic[] = [];

  error(loc: SourceLocation, path: string, message: string): void {
    this.list.push({ severity: 'error', file: loc.file, line: loc.line, col: loc.col, path, message });
  }

  warning(loc: SourceLocation, path: string, message: string): void {
    this.list.push({ severity: 'warning', file: loc.file, line: loc.line, col: loc.col, path, message });
  }

  get errors(): ConfigDiagnostic[] {
    return this.list.filter((d) => d.severity === 'error');
  }

  get warnings(): ConfigDiagnostic[] {
    return this.list.filter((d) => d.severity === 'warning');
  }
}

/**
 * A configuration that cannot be used. `message` gives the first error in full (and how many more);
 * `diagnostics` holds every error and warning of the load.
 */
export class ConfigError extends BatonError {
  readonly diagnostics: readonly ConfigDiagnostic[];

  constructor(diagnostics: readonly ConfigDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const more =
      errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
    super('E_CONFIG_INVALID', `${formatDiagnostic(errors[0]!)}${more}`, { details: { diagnostics } });
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}
