// Compiles the YAML workflows of the configuration: every template and condition parsed once, and the
// static checks a schema cannot make (a `${steps.x}` that names no step or a later one, an unknown
// name, `item` outside a foreach, a subflow cycle, an http host not allowed). Problems carry the key
// path and the offset of the failing character, so that they are reported at file:line:col.
import { defineJob, defineSchedule, nearest } from '@baton/core';
import type { CompiledExpression } from '@baton/ta';
import {
  walkSteps,
  type NestedStep,
  type StepOrSteps,
  type WorkflowsConfig,
} from '../config/kinds/workflows.js';
import type { KindProblem } from '../config/kinds/index.js';
import type { ConfigView } from '../config/types.js';
import { formatPath, joinPath, parsePath } from '../config/paths.js';
import {
  compileCondition,
  compileValue,
  holesOf,
  NestedTemplateError,
  referencesOf,
  TemplateError,
  type SubPath,
  type Template,
} from './template.js';
import { SCOPE_NAMES } from './scope.js';
import { inputSpecProblems, inputSpecRequired } from './input.js';

/** One YAML workflow as written (validated by the schema). */
export type WorkflowSpec = NonNullable<WorkflowsConfig['workflows']>[string];

/** A step ready to run: its templates and conditions compiled, its nested steps compiled. */
export interface CompiledStep {
  readonly id: string | undefined;
  readonly type: NestedStep['type'];
  /** The step as written. */
  readonly spec: NestedStep;
  /** Its key path in the configuration (`workflows.workflows.bug_fix.steps[1]`), for errors. */
  readonly path: string;
  /** Its name in the workflow's history: the id, or the parent's name and the type. */
  readonly name: string;
  /** Where it is written (`file:line:col`), when compiled with the configuration; run-time errors say it. */
  readonly at?: string;
  readonly when?: CompiledExpression;
  readonly condition?: CompiledExpression;
  /** Compiled values by key: input, data, where, params, message, url, headers, body, vars, items, task, until, value. */
  readonly values: Readonly<Record<string, Template>>;
  readonly ifTrue?: readonly CompiledStep[];
  readonly ifFalse?: readonly CompiledStep[];
  readonly actions?: readonly CompiledStep[];
  readonly steps?: readonly CompiledStep[];
  readonly branches?: readonly (readonly CompiledStep[])[];
  readonly cases?: ReadonlyMap<string, readonly CompiledStep[]>;
  readonly otherwise?: readonly CompiledStep[];
  readonly compensate?: readonly CompiledStep[];
}

/** The function the `reassign_task` error handler calls. */
export const REASSIGN_FUNCTION = 'reassign_task';

/** A compiled workflow. */
export interface CompiledFlow {
  readonly name: string;
  readonly spec: WorkflowSpec;
  readonly path: string;
  readonly steps: readonly CompiledStep[];
  readonly final: readonly CompiledStep[];
  /** The configuration kinds its templates read (snapshotted at start); `*` when one reads `config` whole. */
  readonly configKinds: readonly string[];
  /** The registered functions it may call: its function steps', and reassign_task's when a handler names it. */
  readonly functions: readonly string[];
}

/**
 * The channels a notification step may name: the SLA rules' channels that send (`sms` is one the
 * SLA rules know but nothing sends on, so a workflow naming it is refused at load).
 */
export const FLOW_CHANNELS = ['dashboard', 'log', 'webhook'] as const;

/** Keys whose values are templates (rendered when the step runs). */
const TEMPLATE_KEYS = [
  'input',
  'data',
  'where',
  'params',
  'message',
  'url',
  'headers',
  'body',
  'vars',
  'items',
  'task',
  'until',
  'value',
  'duration',
  'approval',
] as const;

/** Collects problems while compiling; a step with a problem is still compiled as far as it goes. */
class Compiler {
  readonly problems: KindProblem[] = [];
  readonly configKinds = new Set<string>();
  readonly functions = new Set<string>();
  /** Step ids of the workflow, with the index of the top-level step they belong to (finally: Infinity). */
  private readonly order = new Map<string, number>();
  private top = 0;
  private foreachDepth = 0;

  constructor(
    private readonly spec: WorkflowSpec,
    private readonly path: string,
    private readonly locate?: StepLocator,
  ) {
    // Every id, nested ones too, with the index of the top-level step it is in (finally: Infinity).
    walkSteps(spec.steps, [], (s, p) => s.id !== undefined && this.order.set(s.id, p[0] as number));
    walkSteps(spec.finally ?? [], [], (s) => s.id !== undefined && this.order.set(s.id, Infinity));
  }

  compileFlow(name: string): CompiledFlow {
    const steps = this.spec.steps.map((s, i) => {
      this.top = i;
      return this.step(s, joinPath(this.path, 'steps') + `[${i}]`, s.id!);
    });
    this.top = Infinity;
    const final = (this.spec.finally ?? []).map((s, i) =>
      this.step(s, joinPath(this.path, 'finally') + `[${i}]`, s.id!),
    );
    if (this.spec.error_handling?.some((h) => h.action === 'reassign_task'))
      this.functions.add(REASSIGN_FUNCTION);
    return {
      name,
      spec: this.spec,
      path: this.path,
      steps,
      final,
      configKinds: [...this.configKinds],
      functions: [...this.functions],
    };
  }

  private problem(path: string, message: string, offset?: number): void {
    this.problems.push({ path, message, ...(offset === undefined ? {} : { offset }) });
  }

  /** Checks the names an expression reads; `at` is the expression's offset in its string. */
  private references(expr: CompiledExpression, path: string, at: number): void {
    for (const ref of referencesOf(expr.ast)) {
      const offset = at + ref.start;
      if (ref.root === 'config') this.configKinds.add(ref.key ?? '*');
      if (!SCOPE_NAMES.includes(ref.root)) {
        const hint = nearest(ref.root, SCOPE_NAMES);
        this.problem(
          path,
          `unknown name '${ref.root}'${hint ? ` (did you mean '${hint}'?)` : ''}; templates read ${SCOPE_NAMES.join(', ')}`,
          offset,
        );
      } else if ((ref.root === 'item' || ref.root === 'index') && this.foreachDepth === 0) {
        this.problem(path, `'${ref.root}' exists only inside the steps of a foreach`, offset);
      } else if (ref.root === 'steps' && ref.key !== undefined) {
        const at = this.order.get(ref.key);
        if (at === undefined) {
          const hint = nearest(ref.key, [...this.order.keys()]);
          this.problem(
            path,
            `no step has the id '${ref.key}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
            offset,
          );
        } else if (at > this.top) {
          this.problem(
            path,
            `step '${ref.key}' comes later in the workflow: a template reads only steps that ran before it`,
            offset,
          );
        }
      }
    }
  }

  private condition(text: string, path: string): CompiledExpression | undefined {
    try {
      const expr = compileCondition(text);
      this.references(expr, path, 0);
      return expr;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.problem(path, err.message, err.offset);
      return undefined;
    }
  }

  private value(v: unknown, path: string): Template | undefined {
    try {
      const t = compileValue(v);
      for (const { hole, subPath } of holesOf(t))
        this.references(hole.expr, subPathOf(path, subPath), hole.offset);
      return t;
    } catch (err) {
      if (!(err instanceof NestedTemplateError)) throw err;
      this.problem(subPathOf(path, err.subPath), err.message, err.offset);
      return undefined;
    }
  }

  private list(v: StepOrSteps | undefined, path: string, parent: string): CompiledStep[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return [this.step(v, path, `${parent}.${v.id ?? v.type}`)];
    return v.map((s, i) => this.step(s, `${path}[${i}]`, `${parent}.${s.id ?? `${i}.${s.type}`}`));
  }

  private step(s: NestedStep, path: string, name: string): CompiledStep {
    if (s.type === 'function' && s.function !== undefined) this.functions.add(s.function);
    const values: Record<string, Template> = {};
    for (const key of TEMPLATE_KEYS) {
      const raw = (s as unknown as Record<string, unknown>)[key];
      if (raw === undefined) continue;
      // A switch's value and a wait's until are expressions, with or without the ${} wrapper.
      const text =
        (key === 'value' || key === 'until' || key === 'items') &&
        typeof raw === 'string' &&
        !raw.includes('${')
          ? `\${${raw}}`
          : raw;
      const t =
        text === raw
          ? this.value(raw, joinPath(path, key))
          : this.wrapped(raw as string, joinPath(path, key));
      if (t) values[key] = t;
    }
    if (
      s.type === 'notification' &&
      s.channel !== undefined &&
      !(FLOW_CHANNELS as readonly string[]).includes(s.channel)
    ) {
      const hint = nearest(s.channel, [...FLOW_CHANNELS]);
      this.problem(
        joinPath(path, 'channel'),
        `channel '${s.channel}' cannot send from a workflow${hint ? ` (did you mean '${hint}'?)` : ''}: use ${FLOW_CHANNELS.join(', ')}`,
      );
    }
    if (s.type === 'database' && (s.action === 'update' || s.action === 'delete') && s.where === undefined) {
      this.problem(
        joinPath(path, 'action'),
        `a database ${s.action} needs where: without it every row of '${s.table}' would change`,
      );
    }
    const when = s.if === undefined ? undefined : this.condition(s.if, joinPath(path, 'if'));
    const condition =
      s.condition === undefined ? undefined : this.condition(s.condition, joinPath(path, 'condition'));
    if (s.type === 'foreach') this.foreachDepth++;
    const steps = s.steps?.map((c, i) =>
      this.step(c, `${joinPath(path, 'steps')}[${i}]`, `${name}.${c.id ?? `${i}.${c.type}`}`),
    );
    if (s.type === 'foreach') this.foreachDepth--;
    const at = this.locate?.(path);
    const cases = s.cases
      ? new Map(
          Object.entries(s.cases).map(([k, v]) => [
            k,
            this.list(v, joinPath(joinPath(path, 'cases'), k), `${name}.${k}`)!,
          ]),
        )
      : undefined;
    return {
      id: s.id,
      type: s.type,
      spec: s,
      path,
      name,
      ...(at === undefined ? {} : { at }),
      values,
      ...(when ? { when } : {}),
      ...(condition ? { condition } : {}),
      ...opt('ifTrue', this.list(s.if_true, joinPath(path, 'if_true'), name)),
      ...opt('ifFalse', this.list(s.if_false, joinPath(path, 'if_false'), name)),
      ...opt(
        'actions',
        s.actions?.map((c, i) =>
          this.step(c, `${joinPath(path, 'actions')}[${i}]`, `${name}.${c.id ?? `${i}.${c.type}`}`),
        ),
      ),
      ...opt('steps', steps),
      ...opt(
        'branches',
        s.branches?.map((b, i) => this.list(b, `${joinPath(path, 'branches')}[${i}]`, `${name}[${i}]`)!),
      ),
      ...opt('cases', cases),
      ...opt('otherwise', this.list(s.default, joinPath(path, 'default'), `${name}.default`)),
      ...opt(
        'compensate',
        s.compensate && this.list(s.compensate, joinPath(path, 'compensate'), `${name}.compensate`),
      ),
    };
  }

  /** A bare expression (a switch's `value`), checked as if written `${…}`: offsets shift by 2. */
  private wrapped(raw: string, path: string): Template | undefined {
    try {
      const t = compileValue(`\${${raw}}`);
      for (const { hole } of holesOf(t)) this.references(hole.expr, path, hole.offset - 2);
      return t;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.problem(path, err.message, Math.max(0, err.offset - 2));
      return undefined;
    }
  }
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function subPathOf(path: string, sub: SubPath): string {
  return sub.reduce<string>((p, s) => joinPath(p, s), path);
}

/** Every step of a workflow, nested ones included, with its key path. */
export function allSteps(spec: WorkflowSpec, path: string): { step: NestedStep; path: string }[] {
  const out: { step: NestedStep; path: string }[] = [];
  const under = (key: string) => (step: NestedStep, p: (string | number)[]) =>
    out.push({ step, path: formatPath([...parsePath(path), key, ...p]) });
  walkSteps(spec.steps, [], under('steps'));
  walkSteps(spec.finally ?? [], [], under('finally'));
  return out;
}

/** The key path of a workflow in the configuration. */
export function workflowPath(name: string): string {
  return joinPath(joinPath('workflows', 'workflows'), name);
}

/** Where the value at a key path is written (`file:line:col`), or undefined. */
export type StepLocator = (path: string) => string | undefined;

/**
 * Compiles one workflow; problems (with paths and offsets) are returned beside it. With `locate`,
 * each step knows where it is written.
 */
export function compileFlow(
  name: string,
  spec: WorkflowSpec,
  locate?: StepLocator,
): { flow: CompiledFlow; problems: KindProblem[] } {
  const c = new Compiler(spec, workflowPath(name), locate);
  const flow = c.compileFlow(name);
  return { flow, problems: c.problems };
}

/** The workflows a subflow cycle runs through, for each workflow that starts one. */
function subflowCycles(config: WorkflowsConfig): KindProblem[] {
  const flows = config.workflows ?? {};
  const edges = new Map<string, { target: string; path: string }[]>();
  for (const [name, spec] of Object.entries(flows)) {
    edges.set(
      name,
      allSteps(spec, workflowPath(name))
        .filter(
          ({ step }) =>
            step.type === 'subflow' && step.workflow !== undefined && Object.hasOwn(flows, step.workflow),
        )
        .map(({ step, path }) => ({ target: step.workflow!, path: joinPath(path, 'workflow') })),
    );
  }
  const problems: KindProblem[] = [];
  const reported = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    for (const e of edges.get(name) ?? []) {
      const at = trail.indexOf(e.target);
      if (at >= 0) {
        const cycle = [...trail.slice(at), e.target];
        const key = [...new Set(cycle)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({
            path: e.path,
            message: `subflow cycle: ${cycle.join(' → ')}; a workflow cannot start itself, directly or through others`,
          });
        }
      } else visit(e.target, [...trail, e.target]);
    }
  };
  for (const name of edges.keys()) visit(name, [name]);
  return problems;
}

/** http steps whose literal host is not in `settings.http_allowed_hosts`. */
function httpHosts(config: WorkflowsConfig): KindProblem[] {
  const allowed = config.settings?.http_allowed_hosts ?? [];
  const problems: KindProblem[] = [];
  for (const [name, spec] of Object.entries(config.workflows ?? {})) {
    for (const { step, path } of allSteps(spec, workflowPath(name))) {
      if (step.type !== 'http' || step.url === undefined) continue;
      const host = literalHost(step.url);
      if (host === undefined) continue;
      if (!hostAllowed(host, allowed)) {
        problems.push({
          path: joinPath(path, 'url'),
          message: `host '${host}' is not allowed: add it to settings.http_allowed_hosts in workflows.yaml (allowed: ${allowed.length ? allowed.join(', ') : 'none'})`,
        });
      }
    }
  }
  return problems;
}

/** The host of a URL whose scheme and host are written out (not templated); undefined otherwise. */
export function literalHost(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#$]+)/i.exec(url);
  return m?.[1]?.toLowerCase();
}

/** `api.example.com` matches itself and `*.example.com`. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => {
    const p = a.toLowerCase();
    return p === host || (p.startsWith('*.') && host.endsWith(p.slice(1)));
  });
}

/**
 * Checks across kinds, at load: a `query` step names a query of queries.yaml, and a `database` step a
 * declared datasource, writable when it writes.
 */
export function checkFlowReferences(view: ConfigView): KindProblem[] {
  const queries = Object.keys(view.value.queries?.queries ?? {});
  const datasources = view.value.datasources;
  const declared = datasources?.datasources ?? {};
  const names = Object.keys(declared);
  const problems: KindProblem[] = [];
  for (const [name, spec] of Object.entries(view.value.workflows?.workflows ?? {})) {
    for (const { step, path } of allSteps(spec, workflowPath(name))) {
      if (step.type === 'query' && step.query !== undefined && !queries.includes(step.query)) {
        const hint = nearest(step.query, queries);
        problems.push({
          path: joinPath(path, 'query'),
          message: `no named query '${step.query}'${hint ? ` (did you mean '${hint}'?)` : ''} in queries.yaml`,
        });
      }
      if (step.type !== 'database') continue;
      const ds =
        step.datasource ?? datasources?.default_datasource ?? (names.length === 1 ? names[0] : undefined);
      if (ds === undefined || !Object.hasOwn(declared, ds)) {
        problems.push({
          path: joinPath(path, step.datasource === undefined ? 'table' : 'datasource'),
          message:
            ds === undefined
              ? `a database step needs a datasource: declare one in datasources.yaml${names.length > 1 ? `, or set datasource: (declared: ${names.join(', ')})` : ''}`
              : `no datasource '${ds}' (declared: ${names.join(', ') || 'none'})`,
        });
      } else if (step.action !== 'select' && declared[ds]!.writable !== true) {
        problems.push({
          path: joinPath(path, 'action'),
          message: `a database ${step.action} writes, and datasource '${ds}' is not writable: set writable: true on it in datasources.yaml`,
        });
      }
    }
  }
  return problems;
}

/** What a workflow name must be to run on the engine (its `checkName`). */
const ENGINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;

/** Stands in for a schedule's job when a cron expression is checked. */
const CRON_CHECK = defineJob('flows:cron-check', {}, () => null);

/** Triggers: a cron that parses, an input a scheduled run can start with, a filter that compiles. */
function checkTriggers(name: string, spec: WorkflowSpec): KindProblem[] {
  const path = joinPath(workflowPath(name), 'trigger');
  const t = spec.trigger;
  const problems: KindProblem[] = [];
  if (t?.type === 'schedule' && t.cron !== undefined) {
    try {
      defineSchedule(`flows:${name}`, { cron: t.cron, job: CRON_CHECK });
    } catch (err) {
      problems.push({ path: joinPath(path, 'cron'), message: (err as Error).message });
    }
    const required = inputSpecRequired(spec.input ?? {});
    if (required.length) {
      problems.push({
        path: joinPath(path, 'type'),
        message: `a scheduled run starts with no input, and the input spec requires ${required.join(', ')}: give them defaults`,
      });
    }
  }
  if (t?.type === 'api' && t.endpoint !== undefined && !/^\/api\/[A-Za-z0-9_\-/.]+$/.test(t.endpoint)) {
    problems.push({
      path: joinPath(path, 'endpoint'),
      message: `endpoint '${t.endpoint}': an api trigger's path is under /api/ (where every route needs a key), with letters, digits, _ - . and /`,
    });
  }
  if (t?.type === 'event' && t.filter !== undefined) {
    try {
      const expr = compileCondition(t.filter);
      for (const ref of referencesOf(expr.ast)) {
        if (ref.root !== 'event' && ref.root !== 'data') {
          problems.push({
            path: joinPath(path, 'filter'),
            message: `unknown name '${ref.root}': an event filter reads event (its name) and data (its payload)`,
            offset: ref.start,
          });
        }
      }
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      problems.push({ path: joinPath(path, 'filter'), message: err.message, offset: err.offset });
    }
  }
  return problems;
}

/** The checks of the `workflows` kind, run when the configuration loads. */
export function checkWorkflows(config: WorkflowsConfig): KindProblem[] {
  const problems: KindProblem[] = [];
  for (const [name, spec] of Object.entries(config.workflows ?? {})) {
    if (!ENGINE_NAME.test(name)) {
      problems.push({
        path: workflowPath(name),
        message: `workflow name '${name}': use letters, digits, _ . : - and /, starting with a letter or digit (at most 200)`,
      });
    }
    problems.push(...checkTriggers(name, spec));
    for (const [field, message] of inputSpecProblems(spec.input ?? {})) {
      problems.push({ path: joinPath(joinPath(workflowPath(name), 'input'), field), message });
    }
    problems.push(...compileFlow(name, spec).problems);
  }
  return [...problems, ...subflowCycles(config), ...httpHosts(config)];
}
