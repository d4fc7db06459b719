import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  BatonError,
  isJobDefinition,
  isScheduleDefinition,
  isWorkflowDefinition,
  type JobDefinition,
  type ScheduleDefinition,
  type WorkflowDefinition,
} from '@baton/core';

/** What a user module defines: every exported job, workflow and schedule, found by their brand. */
export interface LoadedModule {
  path: string;
  jobs: JobDefinition[];
  workflows: WorkflowDefinition[];
  schedules: ScheduleDefinition[];
  /** The module's exports; for several modules, merged (a later module's export of the same name wins). */
  exports: Record<string, unknown>;
  /** The exported `demo` function of each module that has one, in the order the modules were given. */
  demos: unknown[];
}

/** Another definition (of either kind) with the same name as `value`. */
function clash(m: Pick<LoadedModule, 'jobs' | 'workflows'>, value: JobDefinition | WorkflowDefinition) {
  return [...m.jobs, ...m.workflows].find((d) => d.name === value.name && d !== value);
}

function kindOf(d: JobDefinition | WorkflowDefinition): string {
  return isWorkflowDefinition(d) ? 'workflow' : 'job';
}

function add(m: Pick<LoadedModule, 'jobs' | 'workflows'>, d: JobDefinition | WorkflowDefinition): void {
  if (isWorkflowDefinition(d)) {
    if (!m.workflows.includes(d)) m.workflows.push(d);
  } else if (!m.jobs.includes(d)) m.jobs.push(d);
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
  const found: Pick<LoadedModule, 'jobs' | 'workflows'> = { jobs: [], workflows: [] };
  const schedules = new Map<string, ScheduleDefinition>();
  const visit = (value: unknown) => {
    if (isJobDefinition(value) || isWorkflowDefinition(value)) {
      const other = clash(found, value);
      if (other) {
        throw new BatonError(
          'E_DUPLICATE_DEFINITION',
          kindOf(other) === kindOf(value)
            ? `module '${path}' defines ${kindOf(value)} '${value.name}' twice`
            : `module '${path}' defines '${value.name}' as both a job and a workflow: names must be unique`,
        );
      }
      add(found, value);
    } else if (isScheduleDefinition(value)) {
      schedules.set(value.name, value);
      visit(value.job);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    }
  };
  for (const value of Object.values(mod)) visit(value);
  return {
    path: abs,
    ...found,
    schedules: [...schedules.values()],
    exports: mod,
    demos: typeof mod.demo === 'function' ? [mod.demo] : [],
  };
}

/**
 * Loads several modules and merges their definitions; the same name defined differently by two
 * modules is an error (one module re-exporting another's definition is fine).
 */
export async function loadUserModules(paths: readonly string[]): Promise<LoadedModule> {
  const merged: LoadedModule = {
    path: paths.join(', '),
    jobs: [],
    workflows: [],
    schedules: [],
    exports: {},
    demos: [],
  };
  for (const p of paths) {
    const m = await loadUserModule(p);
    for (const d of [...m.jobs, ...m.workflows]) {
      const other = clash(merged, d);
      if (other) {
        throw new BatonError(
          'E_DUPLICATE_DEFINITION',
          `${kindOf(d)} '${d.name}' is defined by more than one module${kindOf(other) === kindOf(d) ? '' : ` (once as a ${kindOf(other)})`}`,
        );
      }
      add(merged, d);
    }
    for (const s of m.schedules) if (!merged.schedules.includes(s)) merged.schedules.push(s);
    for (const demo of m.demos) if (!merged.demos.includes(demo)) merged.demos.push(demo);
    Object.assign(merged.exports, m.exports);
  }
  return merged;
}
