// Finds the files of a configuration directory in merge order and tells the kind of each:
// base/*.yaml, then environments/<BATON_ENV>.yaml, then local/*.yaml.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, basename, extname } from 'node:path';
import { BatonError } from '@baton/core';

/** Where a file sits in the hierarchy, which decides what its top-level keys mean. */
export type Layer = 'base' | 'environment' | 'local';

export interface ConfigFile {
  readonly path: string;
  readonly layer: Layer;
  /** The kind its name says (`routing_rules.yaml`), if any. */
  readonly nameKind: string;
}

const YAML_EXT = new Set(['.yaml', '.yml']);

/**
 * The files to load, in merge order (later wins), and the YAML files found where nothing loads
 * them (the directory's top level, other folders), which the loader warns about.
 */
export function findConfigFiles(
  dir: string,
  environment: string,
): { files: ConfigFile[]; ignored: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new BatonError(
      'E_CONFIG_INVALID',
      `configuration directory '${dir}' does not exist: create it with a base/ folder, or point to it with --config-dir or BATON_CONFIG_DIR`,
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(environment) || environment.startsWith('.')) {
    throw new BatonError(
      'E_CONFIG_INVALID',
      `BATON_ENV '${environment}' is not a valid environment name: use letters, digits, '-', '_' and '.' (e.g. development, production)`,
    );
  }
  const files: ConfigFile[] = [];
  const inFolder = (folder: string, layer: Layer) => {
    for (const name of yamlFiles(join(dir, folder))) files.push(file(join(dir, folder, name), layer));
  };
  inFolder('base', 'base');
  for (const ext of YAML_EXT) {
    const p = join(dir, 'environments', `${environment}${ext}`);
    if (existsSync(p)) files.push(file(p, 'environment'));
  }
  inFolder('local', 'local');
  const ignored = yamlFiles(dir).map((n) => join(dir, n));
  return { files, ignored };
}

function file(path: string, layer: Layer): ConfigFile {
  return { path, layer, nameKind: basename(path, extname(path)) };
}

/** The YAML files directly inside `folder`, sorted by name so the merge order does not depend on the file system. */
function yamlFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile() && YAML_EXT.has(extname(e.name)) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}
