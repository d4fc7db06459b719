import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  BatonError,
  isJobDefinition,
  isScheduleDefinition,
  type JobDefinition,
  type ScheduleDefinition,
} from '@baton/core';

/** What a user module defines: every exported job and schedule, found by their brand. */
export interface LoadedModule {
  path: string;
  jobs: JobDefinition[];
  schedules: ScheduleDefinition[];
  exports: Record<string, unknown>;
}

let tsxRegistered = false;

/** Imports a JavaScript or TypeScript module (TypeScript through tsx) and collects its definitions. */
export async function loadUserModule(path: string): Promise<LoadedModule> {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new BatonError('E_CONFIG_INVALID', `module '${path}' does not exist (looked at ${abs})`);
  }
  if (/\.[cm]?tsx?$/.test(abs) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new BatonError('E_CONFIG_INVALID', `module '${path}' failed to load: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const jobs = new Map<string, JobDefinition>();
  const schedules = new Map<string, ScheduleDefinition>();
  const visit = (value: unknown) => {
    if (isJobDefinition(value)) {
      const seen = jobs.get(value.name);
      if (seen && seen !== value) {
        throw new BatonError('E_DUPLICATE_DEFINITION', `module '${path}' defines job '${value.name}' twice`);
      }
      jobs.set(value.name, value);
    } else if (isScheduleDefinition(value)) {
      schedules.set(value.name, value);
      visit(value.job);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    }
  };
  for (const value of Object.values(mod)) visit(value);
  return { path: abs, jobs: [...jobs.values()], schedules: [...schedules.values()], exports: mod };
}

/** Loads several modules and merges their definitions; the same job name in two modules is an error. */
export async function loadUserModules(paths: readonly string[]): Promise<LoadedModule> {
  const merged: LoadedModule = { path: paths.join(', '), jobs: [], schedules: [], exports: {} };
  for (const p of paths) {
    const m = await loadUserModule(p);
    for (const j of m.jobs) {
      if (merged.jobs.some((x) => x.name === j.name && x !== j)) {
        throw new BatonError('E_DUPLICATE_DEFINITION', `job '${j.name}' is defined by more than one module`);
      }
      if (!merged.jobs.includes(j)) merged.jobs.push(j);
    }
    merged.schedules.push(...m.schedules);
    Object.assign(merged.exports, m.exports);
  }
  return merged;
}
