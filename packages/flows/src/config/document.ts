// loadYamlDocument: one standalone YAML file (a strategy manifest, say) validated by a zod schema, with
// the configuration loader's diagnostics: file:line:col, key path, what was expected and what was found.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError } from '@baton/core';
import type { z } from 'zod';
import { readSource } from './source.js';
import { mergeNode, toPlain, type MergedNode } from './merge.js';
import { validateKind } from './validate.js';
import { Diagnostics, ConfigError } from './diagnostics.js';
import { Provenance } from './provenance.js';
import { formatPath, nearestLocation, type PathSegment } from './paths.js';
import type { Env } from './env.js';
import type { ConfigDiagnostic, SourceLocation } from './types.js';

/** Options of {@link loadYamlDocument}. */
export interface DocumentOptions {
  /** Where `${VAR}` references are read from. Default: `process.env`. */
  env?: Env;
  /** Files larger than this are refused (default 1 MiB). */
  maxFileBytes?: number;
  /** The file's content, when the caller has read it already (it is then not read again). */
  text?: string;
}

/** A validated document and what its load warned about (unknown keys, unset variables). */
export interface LoadedDocument<T> {
  readonly file: string;
  readonly value: T;
  readonly warnings: readonly ConfigDiagnostic[];
  /** Where the value at a key path (`strategy.parameters.k_tp`) was written, if it was. */
  locate(path: string): SourceLocation | undefined;
}

/**
 * Reads `file`, a YAML mapping, and validates it with `schema`.
 *
 * @throws ConfigError (`E_CONFIG_INVALID`) listing every error with file:line:col; BatonError
 *   `E_NOT_FOUND` when the file cannot be read.
 */
export function loadYamlDocument<T>(
  file: string,
  schema: z.ZodType<T>,
  options: DocumentOptions = {},
): LoadedDocument<T> {
  const path = resolve(file);
  const maxBytes = options.maxFileBytes ?? 1024 * 1024;
  const text = options.text ?? readText(path, maxBytes);
  if (options.text !== undefined && Buffer.byteLength(text) > maxBytes) {
    throw new BatonError('E_INPUT_INVALID', `${path} is over the ${maxBytes}-byte limit for a YAML document`);
  }
  const diags = new Diagnostics();
  const top: SourceLocation = { file: path, line: 1, col: 1 };
  const root = readSource(path, text, options.env ?? process.env, diags, (key) => key);
  if (root === undefined || root.type !== 'map') {
    if (!diags.errors.length) {
      const found = root === undefined ? 'an empty file' : root.type === 'seq' ? 'a list' : 'a single value';
      diags.error(root?.loc ?? top, '', `expected a mapping of keys, found ${found}`);
    }
    throw new ConfigError(diags.list);
  }
  // Each top-level key is a tree of its own, as a kind is in a configuration directory.
  const trees = new Map<string, MergedNode>();
  for (const [key, entry] of root.entries) {
    const merged = mergeNode(undefined, entry.node);
    if (merged) trees.set(key, merged);
  }
  const provenance = new Provenance(trees);
  const plain: Record<string, unknown> = {};
  for (const [key, tree] of trees) plain[key] = toPlain(tree);
  const sources = {
    locate: (segs: readonly PathSegment[], key?: boolean) =>
      nearestLocation(segs, (p, exact) => provenance.locate(p, key && exact)) ?? root.loc,
    envOf: (segs: readonly PathSegment[]) => provenance.envOf(formatPath(segs)),
  };
  const value = validateKind('', schema, plain, sources, diags);
  if (diags.errors.length || value === undefined) throw new ConfigError(diags.list);
  return {
    file: path,
    value: value as T,
    warnings: diags.warnings,
    locate: (p: string) => provenance.locate(p),
  };
}

function readText(path: string, maxBytes: number): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (cause) {
    throw new BatonError('E_NOT_FOUND', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  if (size > maxBytes) {
    throw new BatonError(
      'E_INPUT_INVALID',
      `${path} is ${size} bytes, over the ${maxBytes}-byte limit for a YAML document`,
    );
  }
  return readFileSync(path, 'utf8');
}
