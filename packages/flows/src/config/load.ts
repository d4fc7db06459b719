// loadConfig: reads a configuration directory (base/, environments/<env>.yaml, local/), expands
// environment references, merges the files per kind, validates each kind, and returns a frozen Config.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { nearest, type Logger } from '@baton/core';
import { findConfigFiles, type ConfigFile } from './layers.js';
import { readSource, type SourceNode } from './source.js';
import { mergeNode, toPlain, type MergedNode } from './merge.js';
import { validateKind } from './validate.js';
import { Diagnostics, ConfigError } from './diagnostics.js';
import { Provenance } from './provenance.js';
import { formatPath, nearestLocation, parsePath, type PathSegment } from './paths.js';
import {
  CONFIG_CHECKS,
  KIND_CHECKS,
  KIND_NAMES,
  KIND_SCHEMAS,
  isKindName,
  type KindName,
  type KindProblem,
} from './kinds/index.js';
import { Config } from './config.js';
import { deepFreeze } from '../freeze.js';
import type { Env } from './env.js';
import type { SourceLocation } from './types.js';

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Where `${VAR}` references are read from, and BATON_ENV. Default: `process.env`. */
  env?: Env;
  /** The environment whose `environments/<name>.yaml` applies. Default: `env.BATON_ENV`, else `development`. */
  environment?: string;
  /** Files larger than this are refused (default 1 MiB: configuration, not data). */
  maxFileBytes?: number;
  /** Where a watcher logs rejected reloads. */
  logger?: Logger;
}

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/**
 * Loads the configuration directory `dir`: `base/*.yaml`, then `environments/<BATON_ENV>.yaml`, then
 * `local/*.yaml`, later files winning (see docs/config.md for the merge rules). Every kind is
 * validated by its schema.
 *
 * @returns the merged, validated, frozen configuration, with its warnings (unknown keys, unset
 *   variables), `explain(path)` and `watch(onChange)`.
 * @throws ConfigError (`E_CONFIG_INVALID`) listing every error with file:line:col, key path, what
 *   was expected and what was found.
 */
export async function loadConfig(dir: string, options: LoadOptions = {}): Promise<Config> {
  return loadConfigSync(dir, options);
}

/** The synchronous core of {@link loadConfig} (the watcher reloads through it too). */
export function loadConfigSync(dir: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const environment = options.environment ?? env.BATON_ENV ?? 'development';
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const absDir = resolve(dir);
  const diags = new Diagnostics();
  const { files, ignored } = findConfigFiles(absDir, environment);
  for (const f of ignored) {
    diags.warning(
      { file: f, line: 1, col: 1 },
      '',
      'this file is not loaded: configuration files go in base/, environments/<BATON_ENV>.yaml or local/',
    );
  }

  const trees = new Map<KindName, MergedNode>();
  for (const file of files) {
    for (const [kind, node] of readKinds(file, env, maxBytes, diags)) {
      if (!trees.has(kind) && node.type === 'scalar') continue; // `kind: null` with nothing to remove
      const merged = mergeNode(trees.get(kind), node);
      if (merged) trees.set(kind, merged);
      else trees.delete(kind);
    }
  }

  const provenance = new Provenance(trees);
  const value: Record<string, unknown> = {};
  for (const [kind, tree] of trees) {
    const sources = {
      locate: (segs: readonly PathSegment[], key?: boolean) =>
        nearestLocation([kind, ...segs], (path, exact) => provenance.locate(path, key && exact)) ?? tree.loc,
      envOf: (segs: readonly PathSegment[]) => provenance.envOf(formatPath([kind, ...segs])),
    };
    const parsed = validateKind(kind, KIND_SCHEMAS[kind], toPlain(tree), sources, diags);
    if (parsed === undefined) continue;
    value[kind] = parsed;
    const check = KIND_CHECKS[kind] as ((v: unknown) => readonly KindProblem[]) | undefined;
    for (const problem of check?.(parsed) ?? []) {
      diags.error(locateProblem(provenance, problem) ?? tree.loc, problem.path, problem.message);
    }
  }
  const view = { dir: absDir, value, locate: (path: string) => provenance.locate(path) };
  for (const check of CONFIG_CHECKS) {
    for (const problem of check(view)) {
      const at =
        locateProblem(provenance, problem) ??
        nearestLocation(parsePath(problem.at ?? problem.path), (path) => provenance.locate(path));
      diags.error(at ?? { file: absDir, line: 1, col: 1 }, problem.path, problem.message);
    }
  }
  if (diags.errors.length) throw new ConfigError(diags.list);
  return new Config({
    dir: absDir,
    environment,
    value: deepFreeze(value),
    warnings: diags.warnings,
    files: files.map((f) => f.path),
    provenance,
    options: { ...options, env, environment },
  });
}

/**
 * True for the paths of the `workflows` kind: there `${…}` is a template, evaluated when a workflow
 * runs, not an environment reference (a workflow reads `env.NAME` for allowed variables).
 */
function isTemplated(path: string): boolean {
  return path === 'workflows' || path.startsWith('workflows.');
}

/** Where a problem points: the character at its offset in a string value, or the value. */
function locateProblem(provenance: Provenance, problem: KindProblem): SourceLocation | undefined {
  const path = problem.at ?? problem.path;
  return problem.offset === undefined ? provenance.locate(path) : provenance.locateChar(path, problem.offset);
}

/** The kinds one file contributes, each with its source tree; problems go to `diags`. */
function readKinds(
  file: ConfigFile,
  env: Env,
  maxBytes: number,
  diags: Diagnostics,
): [KindName, SourceNode][] {
  const top: SourceLocation = { file: file.path, line: 1, col: 1 };
  const size = statSync(file.path).size;
  if (size > maxBytes) {
    diags.error(
      top,
      '',
      `file is ${megabytes(size)}, over the ${megabytes(maxBytes)} limit for a configuration file: keep data out of configuration (a datasource can point to it)`,
    );
    return [];
  }
  const text = readFileSync(file.path, 'utf8');
  const single = isKindName(file.nameKind) ? file.nameKind : undefined;
  // Paths in warnings start with the kind: the file's name, its `kind:` line, or (an overlay) its top-level key.
  const declaredKind = /^kind\s*:\s*["']?([A-Za-z_]+)/m.exec(text)?.[1];
  const pathKind = single ?? declaredKind ?? (file.layer === 'base' ? file.nameKind : undefined);
  const root = readSource(
    file.path,
    text,
    env,
    diags,
    (key) => (pathKind ? formatPath([pathKind, key]) : key),
    isTemplated,
  );
  if (root === undefined) {
    if (diags.list.some((d) => d.file === file.path && d.severity === 'error')) return [];
    const msg = 'file is empty (or holds only comments): add the keys of its kind, or delete it';
    if (file.layer === 'base') diags.error(top, '', msg);
    else diags.warning(top, '', msg);
    return [];
  }
  if (root.type !== 'map') {
    diags.error(
      root.loc,
      '',
      `a configuration file holds a mapping of keys, found ${root.type === 'seq' ? 'a list' : 'a single value'}`,
    );
    return [];
  }

  const declared = root.entries.get('kind');
  if (declared) {
    const k = declared.node.type === 'scalar' ? declared.node.value : undefined;
    if (typeof k !== 'string' || !isKindName(k)) {
      diags.error(declared.node.loc, 'kind', unknownKind(String(k)));
      return [];
    }
    if (single && k !== single) {
      diags.error(
        declared.node.loc,
        'kind',
        `the file is named after kind '${single}' but says kind: ${k}; rename the file or fix the kind`,
      );
      return [];
    }
    root.entries.delete('kind');
    return [[k, root]];
  }
  if (single) return [[single, root]];
  if (file.layer === 'base') {
    diags.error(
      top,
      '',
      `${unknownKind(file.nameKind)}; a file in base/ is named after its kind, or says kind: <kind> at the top`,
    );
    return [];
  }
  // An environment or local overlay: its top-level keys are kinds.
  const out: [KindName, SourceNode][] = [];
  for (const [key, entry] of root.entries) {
    if (!isKindName(key)) diags.error(entry.keyLoc, key, unknownKind(key));
    else if (entry.node.type === 'scalar' && entry.node.value === null) out.push([key, entry.node]);
    else if (entry.node.type !== 'map')
      diags.error(
        entry.node.loc,
        key,
        `a kind holds a mapping of keys, found ${entry.node.type === 'seq' ? 'a list' : 'a single value'}`,
      );
    else out.push([key, entry.node]);
  }
  return out;
}

function unknownKind(name: string): string {
  const guess = nearest(name, KIND_NAMES);
  return `unknown kind '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}: kinds are ${KIND_NAMES.join(', ')}`;
}

function megabytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`;
}
