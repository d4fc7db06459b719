// YAML workflows as a library: one durable workflow definition per YAML workflow (for a Worker), and
// `start`, which checks the input, pins the version and starts a run. Functions are registered by
// name from TypeScript modules; queries go through the named-query service.
import {
  BatonError,
  Client,
  isBatonError,
  createLogger,
  defineJob,
  defineSchedule,
  defineWorkflow,
  nearest,
  newId,
  type JobDefinition,
  type ScheduleDefinition,
  type Logger,
  type Store,
  type WorkflowDefinition,
} from '@baton/core';
import type { CompiledExpression } from '@baton/ta';
import type { Config } from '../config/config.js';
import type { Architect } from '../architect/architect.js';
import type { TaskView } from '../architect/store/view.js';
import { checkTaskSpec } from '../architect/task-spec.js';
import { compileCondition, test } from './template.js';
import type { KindProblem } from '../config/kinds/index.js';
import { formatLocation } from '../config/diagnostics.js';
import { joinPath } from '../config/paths.js';
import {
  allSteps,
  compileFlow,
  REASSIGN_FUNCTION,
  workflowPath,
  type CompiledFlow,
  type StepLocator,
  type WorkflowSpec,
} from './compile.js';
import { FlowRun } from './interpret.js';
import { rerunCut } from './rerun.js';
import {
  functionContext,
  type ActivityInput,
  type FlowFunction,
  type FlowNotification,
  type FlowOutput,
  type FlowServices,
} from './services.js';
import { durationMs } from './step-error.js';
import { checkInput } from './input.js';
import { configView, newScope, type Snapshot } from './scope.js';
import {
  definitionVersion,
  FlowVersions,
  migrateFlows,
  type FlowStartInput,
  type FlowVersion,
} from './versions.js';
import { planFlow, type PlannedStep } from './plan.js';
import { Tables } from './database.js';
import { httpCall } from './http.js';
import { sendNotification } from './notify.js';

/** A TypeScript function YAML workflows call by name (`type: function`, `function: <name>`). */
export interface FlowFunctionDefinition {
  /** The brand `baton flows -m` finds exported functions by (structural, so any build of @baton/flows matches). */
  readonly kind: 'baton.flow-function';
  readonly name: string;
  readonly fn: FlowFunction;
}

/**
 * Registers a function for YAML workflows. Export it from a module given to `baton flows run -m` or
 * `baton flows worker -m`. It runs as a step: its result is recorded, and it runs at least once (use
 * `ctx.idempotencyKey` with external systems).
 */
export function defineFlowFunction(name: string, fn: FlowFunction): FlowFunctionDefinition {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new BatonError('E_INVALID_OPTION', `function name '${name}': use letters, digits, _ . and -`);
  }
  return { kind: 'baton.flow-function', name, fn };
}

export function isFlowFunction(v: unknown): v is FlowFunctionDefinition {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'baton.flow-function';
}

/** Sends a task under `id`, once: a repeat (after a crash) finds the task already sent. */
async function sendOnce(
  architect: Pick<Architect, 'tasks'>,
  task: Record<string, unknown>,
  id: string,
): Promise<TaskView> {
  return (
    (await shownIfSent(architect, id, { history: false })) ??
    (await architect.tasks.send(checkTaskSpec(task), { id }))
  );
}

/** The task `id`, or undefined when none was sent under it. */
function shownIfSent(
  architect: Pick<Architect, 'tasks'>,
  id: string,
  options: { history?: boolean } = {},
): Promise<TaskView | undefined> {
  return architect.tasks.show(id, options).catch((err: unknown) => {
    if (isBatonError(err) && err.code === 'E_NOT_FOUND') return undefined;
    throw err;
  });
}

/** Options of {@link createFlows}. */
export interface FlowsOptions {
  readonly store: Store;
  /** The configuration in force; called at every start, so a watched configuration takes effect at once. */
  readonly config: () => Config;
  readonly functions?: readonly FlowFunctionDefinition[];
  /** Runs the named queries of `query` steps. */
  readonly query?: FlowServices['query'];
  /** Sends notifications; default: on the SLA rules' channels (dashboard, log, webhook). */
  readonly notify?: (n: FlowNotification) => Promise<void>;
  /**
   * The Architect: `assign` steps send tasks through it (`baton architect` routes them), and its task
   * outcomes (`task.completed|failed|cancelled`) and SLA alerts (`sla.alert`) become events that
   * event triggers can name, where this process runs its task workflows and SLA monitor.
   */
  readonly architect?: Pick<Architect, 'tasks' | 'context'>;
  /** Code workflows a `subflow` step may start by name (a worker must serve them too). */
  readonly workflows?: readonly WorkflowDefinition[];
  /** The queue runs go to (default `flows`). */
  readonly queue?: string;
  readonly logger?: Logger;
  /** Creates the table of versions when missing (default true). */
  readonly migrate?: boolean;
}

/** A run an event started. */
export interface EmittedRun {
  readonly workflow: string;
  readonly id: string;
}

/** YAML workflows over one store. */
export interface Flows {
  /**
   * One durable workflow per YAML workflow: give them to a Worker. Read after a reload, it also has
   * the workflows the reload added (`worker.serve` takes them); it keeps those a reload removed,
   * whose runs may still be going.
   */
  readonly definitions: readonly WorkflowDefinition<FlowStartInput, FlowOutput>[];
  /**
   * The jobs to give the Worker too: the functions as activities (function steps with `queue:`) and
   * the schedule triggers' jobs; with `schedules`, the cron schedules of those triggers (a trigger
   * a reload removed fires no run).
   */
  readonly jobs: readonly JobDefinition[];
  /** The queues a worker of these flows serves: `flows` and every queue a function step names. */
  queues(): string[];
  readonly schedules: readonly ScheduleDefinition[];
  /** Emits an event: starts every workflow whose `event` trigger names it and whose filter holds. */
  emit(event: string, data?: unknown): Promise<EmittedRun[]>;
  /** The YAML workflows' names, in the configuration in force. */
  names(): string[];
  /**
   * Starts a run of `name` on its current definition. The input is checked against the workflow's
   * `input:` spec first: nothing starts when it fails (`E_INPUT_INVALID`).
   */
  start(name: string, input?: unknown, options?: { id?: string }): Promise<{ id: string; version: string }>;
  /**
   * What cannot run although the configuration loaded: functions no module registered, subflows
   * naming no workflow, reassign_task without its function. Each problem is one line with file:line:col.
   * With `name`, only that workflow's.
   */
  check(name?: string): string[];
  /**
   * A dry run: the steps a run of `name` with `input` would take, and their templates' values where
   * the input, the configuration and earlier `set` steps make them known. Nothing runs or is stored.
   */
  plan(name: string, input?: unknown): { version: string; steps: PlannedStep[] };
  /**
   * A new run of `runId`'s workflow, on its current definition, that reuses what `runId` recorded
   * before step `from`: those steps replay from the copied history (nothing runs again), and the run
   * goes on live from `from`. A definition changed before `from` fails the new run with E_NONDETERMINISM.
   */
  rerun(runId: string, from: string): Promise<{ id: string; version: string; reused: number }>;
  /** Closes the connections `database` steps opened (the store stays open: it is the caller's). */
  close(): Promise<void>;
}

export async function createFlows(options: FlowsOptions): Promise<Flows> {
  const { store } = options;
  if (options.migrate !== false) await migrateFlows(store.driver);
  const logger = options.logger ?? createLogger('warn');
  const versions = new FlowVersions(store.driver);
  const client = new Client(store);
  const queue = options.queue ?? 'flows';
  const functions = new Map((options.functions ?? []).map((f) => [f.name, f.fn]));
  // Each function can also run as an activity (a function step with `queue:`): one job per function.
  // Its retries are the step's (`retry:`), so the job itself tries once.
  const functionJobs = new Map(
    [...functions].map(([name, fn]) => [
      name,
      defineJob<ActivityInput, unknown>(
        `flows.fn.${name}`,
        { queue, retry: { maxAttempts: 1 } },
        async (a, ctx) =>
          fn(
            a.input,
            functionContext(runServices, {
              idempotencyKey: `${a.run}:${a.step}`,
              attempt: (a.attempt ?? 1) + ctx.attempt - 1,
              signal: ctx.signal,
              workflowId: a.run,
              step: a.step,
            }),
          ),
      ),
    ]),
  );
  // The queue limits workflows.yaml declares (settings.queues), for every worker.
  for (const [name, q] of Object.entries(options.config().value.workflows?.settings?.queues ?? {})) {
    await client.configureQueue(name, { concurrency: q.concurrency });
  }
  const codeWorkflows = new Map((options.workflows ?? []).map((w) => [w.name, w]));
  /** Compiled workflows and their `config` views, by stored version (immutable, so shared by runs). */
  const compiled = new Map<string, CompiledFlow>();
  const views = new Map<string, Record<string, unknown>>();

  const specs = (): Record<string, WorkflowSpec> => options.config().value.workflows?.workflows ?? {};
  const specOf = (name: string): WorkflowSpec => workflowSpec(options.config(), name);

  // A workflow's compiled form and stored version, once per loaded configuration (a reload is a new
  // Config object, so a new entry): starting a run then costs the input check and the start itself.
  const pinned = new WeakMap<Config, Map<string, Promise<FlowVersion>>>();
  const versionFor = (config: Config, name: string, spec: WorkflowSpec): Promise<FlowVersion> => {
    let byName = pinned.get(config);
    if (!byName) pinned.set(config, (byName = new Map()));
    let v = byName.get(name);
    if (!v) {
      const { flow, problems } = compileFlow(name, spec, locator(config));
      if (problems.length) throw invalid(config, problems);
      v = versions.put(name, spec, snapshotOf(config, flow)).then((row) => {
        compiled.set(row.digest, flow);
        return row;
      });
      byName.set(name, v);
      v.catch(() => byName.delete(name));
    }
    return v;
  };

  const prepare = async (name: string, input: unknown): Promise<FlowStartInput> => {
    const config = options.config();
    const spec = workflowSpec(config, name);
    const checked = checkInput(name, spec.input, input, inputDeclared(config, name));
    const v = await versionFor(config, name, spec);
    return { input: checked, version: v.version, snapshot: v.digest };
  };

  const tables = new Tables(options.config, store, logger);
  const services = (def: () => Map<string, WorkflowDefinition>): FlowServices => ({
    function: (name) => functions.get(name),
    functionJob: (name) => functionJobs.get(name),
    table: (s) => tables.run(s),
    http: (req, signal) =>
      httpCall(req, options.config().value.workflows?.settings?.http_allowed_hosts ?? [], signal),
    query:
      options.query ??
      (() =>
        Promise.reject(
          new BatonError(
            'E_CONFIG_INVALID',
            'no query service: named queries need queries.yaml and a datasource',
          ),
        )),
    notify: options.notify ?? ((n) => sendNotification(options.config(), store.driver, logger, n)),
    workflow: (name) => def().get(name) ?? codeWorkflows.get(name),
    // Called only when a run emits, by then `emit` (below) exists.
    emit: (event, data, idPrefix) => emit(event, data, idPrefix),
    assign: async (task, id) => {
      const architect = options.architect;
      if (!architect) {
        throw new BatonError(
          'E_CONFIG_INVALID',
          'an assign step needs the Architect: createFlows({ architect }), as baton flows does when routing_rules exist',
        );
      }
      const view = await sendOnce(architect, task, id);
      return { task: view.id, status: view.status };
    },
    tasks: (site) => {
      const architect = options.architect;
      // A task sent by a step has the id of the step's call site: `<run>:<step>[:<key>]`.
      const sentId = (key: string, o: { key?: string }) => (o.key === undefined ? key : `${key}:${o.key}`);
      return (
        architect && {
          send: (task, o = {}) => sendOnce(architect, task, sentId(site.idempotencyKey, o)),
          sentBy: (step, o = {}) => shownIfSent(architect, sentId(`${site.workflowId}:${step}`, o)),
          show: (id) => architect.tasks.show(id),
          reassign: (id, to) => architect.tasks.reassign(id, to === undefined ? {} : { to }),
        }
      );
    },
    childInput: (name, input) => (def().has(name) ? prepare(name, input) : Promise.resolve(input)),
  });

  // The engine's definition of each YAML workflow, made the first time the configuration in force
  // has it (at creation, or after a reload that adds it) and kept: runs started on it may still run
  // after a reload removes the workflow. A run reads its pinned version, never the current file.
  const byName = new Map<string, WorkflowDefinition<FlowStartInput, FlowOutput>>();
  const runServices = services(() => byName as Map<string, WorkflowDefinition>);
  const definitionOf = (name: string, spec: WorkflowSpec) => {
    let def = byName.get(name);
    if (def) return def;
    def = defineWorkflow<FlowStartInput, FlowOutput>(
      name,
      {
        queue,
        ...(spec.timeout === undefined ? {} : { timeout: durationMs(spec.timeout, `${name}: timeout`) }),
      },
      async (ctx, start) => {
        // A stored version never changes, so reading it outside a durable step replays the same.
        const v = await versions.get(start.snapshot);
        let flow = compiled.get(v.digest);
        if (!flow) {
          // Started by another process (or before a restart): its steps are located in this
          // process's file when that holds the same definition, and not located otherwise.
          const config = options.config();
          const specs = config.value.workflows?.workflows ?? {};
          const current = Object.hasOwn(specs, v.name) ? specs[v.name] : undefined;
          const same = current !== undefined && definitionVersion(current) === v.version;
          flow = compileFlow(v.name, v.definition, same ? locator(config) : undefined).flow;
          compiled.set(v.digest, flow);
        }
        // A function this process does not have would fail its step after the earlier ones ran.
        const missing = flow.functions.filter((f) => !functions.has(f));
        if (missing.length) {
          throw new BatonError(
            'E_UNKNOWN_FUNCTION',
            `workflow '${v.name}' calls ${missing.map((f) => `'${f}'`).join(', ')}, which no module of this worker registers (registered: ${[...functions.keys()].join(', ') || 'none'}); no step ran. Give the worker the module with -m, then retry the run`,
          );
        }
        let view = views.get(v.digest);
        if (!view) views.set(v.digest, (view = configView(v.config)));
        const scope = newScope(start.input, view, v.env, ctx.now().getTime());
        return new FlowRun(ctx, flow, scope, runServices).run();
      },
    );
    byName.set(name, def);
    return def;
  };
  const definitions = () => {
    for (const [name, spec] of Object.entries(specs())) definitionOf(name, spec);
    return [...byName.values()];
  };

  const start = async (
    name: string,
    input?: unknown,
    startOptions: { id?: string } = {},
  ): Promise<{ id: string; version: string }> => {
    const def = definitionOf(name, specOf(name));
    const wrapper = await prepare(name, input);
    const { id } = await client.start(
      def,
      wrapper,
      startOptions.id === undefined ? {} : { id: startOptions.id },
    );
    return { id, version: wrapper.version };
  };

  // Event triggers: an emitted event starts every workflow whose trigger names it and whose filter
  // holds. With `idPrefix` (an emit step's idempotency key) the starts are idempotent.
  const filters = new WeakMap<WorkflowSpec, CompiledExpression>();
  const emit = async (event: string, data: unknown, idPrefix?: string): Promise<EmittedRun[]> => {
    const started: EmittedRun[] = [];
    for (const [name, spec] of Object.entries(specs())) {
      const t = spec.trigger;
      if (t?.type !== 'event' || t.event !== event) continue;
      if (t.filter !== undefined) {
        let f = filters.get(spec);
        if (!f) filters.set(spec, (f = compileCondition(t.filter)));
        if (!test(f, { event, data })) continue;
      }
      const { id } = await start(name, data, idPrefix === undefined ? {} : { id: `${idPrefix}:${name}` });
      started.push({ workflow: name, id });
    }
    return started;
  };
  // The Architect publishes task outcomes and SLA alerts here: event triggers can name them.
  if (options.architect) options.architect.context.events.emit = emit;

  // Schedule triggers: a job per workflow, fired once per cron tick by the engine's schedules; the
  // run's id derives from the job's, so a retried job starts no second run. Made when the
  // configuration in force first has the trigger, and a new schedule when its cron changes.
  const scheduleJobs = new Map<string, JobDefinition>();
  const scheduleDefs = new Map<string, { cron: string; schedule: ScheduleDefinition }>();
  const scheduled = (): ScheduleDefinition[] => {
    for (const [name, spec] of Object.entries(specs())) {
      const cron = spec.trigger?.type === 'schedule' ? spec.trigger.cron : undefined;
      if (cron === undefined || scheduleDefs.get(name)?.cron === cron) continue;
      let job = scheduleJobs.get(name);
      if (!job) {
        job = defineJob(`flows:schedule:${name}`, { queue }, async (_input: unknown, ctx) => {
          // A worker fires the schedules it was given; a reload may have taken this trigger away since.
          if (specs()[name]?.trigger?.type !== 'schedule') {
            return { skipped: `'${name}' has no schedule trigger in the configuration in force` };
          }
          return { run: (await start(name, {}, { id: `${name}:schedule:${ctx.id}` })).id };
        });
        scheduleJobs.set(name, job);
      }
      scheduleDefs.set(name, { cron, schedule: defineSchedule(`flows:${name}`, { cron, job }) });
    }
    return [...scheduleDefs.values()].map((d) => d.schedule);
  };

  return {
    get definitions() {
      return definitions();
    },
    get jobs() {
      scheduled();
      return [...functionJobs.values(), ...scheduleJobs.values()] as JobDefinition[];
    },
    get schedules() {
      return scheduled();
    },
    names: () => Object.keys(specs()),
    queues: () => flowQueues(options.config(), queue),
    start,
    emit: (event, data) => emit(event, data),
    close: () => tables.close(),
    plan: (name, input) => planRun(options.config(), name, input),
    async rerun(runId, from) {
      const old = await client.describe(runId);
      const start = old.input as Partial<FlowStartInput> | null;
      if (old.kind !== 'workflow' || !start || typeof start.snapshot !== 'string') {
        throw new BatonError('E_INVALID_STATE', `execution ${runId} is not a run of a YAML workflow`);
      }
      const spec = specOf(old.name);
      const def = definitionOf(old.name, spec);
      const cut = rerunCut(old.name, spec, old.history, old.status, from);
      const wrapper = await prepare(old.name, start.input);
      const id = newId();
      const seqs = old.history.slice(0, cut).map((h) => h.seq);
      await store.driver.transaction(async (tx) => {
        await client.startMany(def, [{ id, input: wrapper }], { db: tx });
        // The new run's history starts as the old one's before `from`: a replay, not a re-execution.
        await tx.query(
          `INSERT INTO baton.history (execution_id, seq, kind, name, status, attempts, input, output, error, started_at, finished_at, settled)
           SELECT $1, seq, kind, name, status, attempts, input, output, error, started_at, finished_at, settled
           FROM baton.history WHERE execution_id = $2 AND seq = ANY($3::int[])`,
          [id, runId, seqs],
        );
      });
      return { id, version: wrapper.version, reused: seqs.length };
    },
    check: (name) =>
      unrunnableSteps(options.config(), new Set(functions.keys()), new Set(codeWorkflows.keys()), name),
  };
}

/** `queue` and the queues function steps name (`queue:`) or settings.queues limits. */
function flowQueues(config: Config, queue: string): string[] {
  const out = new Set([queue, ...Object.keys(config.value.workflows?.settings?.queues ?? {})]);
  for (const [name, spec] of Object.entries(config.value.workflows?.workflows ?? {})) {
    for (const { step } of allSteps(spec, workflowPath(name))) {
      if (step.type === 'function' && step.queue !== undefined) out.add(step.queue);
    }
  }
  return [...out];
}

/** The YAML workflow `name` of the configuration, or `E_UNKNOWN_WORKFLOW` with the nearest name. */
function workflowSpec(config: Config, name: string): WorkflowSpec {
  const specs = config.value.workflows?.workflows ?? {};
  // Own keys only: a name such as `constructor` is not a workflow because every object inherits it.
  if (Object.hasOwn(specs, name)) return specs[name]!;
  const hint = nearest(name, Object.keys(specs));
  throw new BatonError(
    'E_UNKNOWN_WORKFLOW',
    `no YAML workflow '${name}' in ${config.dir}${hint ? ` (did you mean '${hint}'?)` : ''}`,
  );
}

/** The snapshot a new run takes: the kinds its templates read (secrets masked) and the allowed variables. */
function snapshotOf(config: Config, flow: CompiledFlow): Snapshot {
  const kinds = flow.configKinds.includes('*') ? Object.keys(config.value) : flow.configKinds;
  const snap: Record<string, unknown> = {};
  for (const k of kinds) if (config.get(k) !== undefined) snap[k] = config.masked(k);
  const env: Record<string, string> = {};
  for (const name of config.value.workflows?.settings?.env ?? []) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { config: snap, env };
}

/**
 * A dry run of `name` with `input` under `config`: the steps a run would take and their templates'
 * values where known. Needs no store and runs nothing.
 */
export function planRun(
  config: Config,
  name: string,
  input?: unknown,
): { version: string; steps: PlannedStep[] } {
  const spec = workflowSpec(config, name);
  const { flow, problems } = compileFlow(name, spec);
  if (problems.length) throw invalid(config, problems);
  const checked = checkInput(name, spec.input, input, inputDeclared(config, name));
  return {
    version: definitionVersion(spec),
    steps: planFlow(flow, checked, snapshotOf(config, flow), Date.now()),
  };
}

/**
 * What cannot run although the configuration loaded: functions not registered, subflows that name no
 * workflow, reassign_task without its function. One line each, with file:line:col.
 */
export function unrunnableSteps(
  config: Config,
  functions: ReadonlySet<string>,
  codeWorkflows: ReadonlySet<string> = new Set(),
  only?: string,
): string[] {
  const specs = config.value.workflows?.workflows ?? {};
  const out: string[] = [];
  const locate = locator(config);
  const at = (path: string): string => {
    const loc = locate(path);
    return loc ? `${loc}: ` : '';
  };
  for (const [name, spec] of Object.entries(specs)) {
    if (only !== undefined && name !== only) continue;
    const flowPath = workflowPath(name);
    for (const { step: s, path } of allSteps(spec, flowPath)) {
      if (s.type === 'function' && !functions.has(s.function!)) {
        const hint = nearest(s.function!, [...functions]);
        out.push(
          `${at(joinPath(path, 'function'))}${path}: unknown function '${s.function}'${hint ? ` (did you mean '${hint}'?)` : ''}; registered: ${[...functions].join(', ') || 'none (give modules with -m)'}`,
        );
      }
      if (s.type === 'subflow' && !Object.hasOwn(specs, s.workflow!) && !codeWorkflows.has(s.workflow!)) {
        out.push(
          `${at(joinPath(path, 'workflow'))}${path}: no workflow '${s.workflow}' (YAML, or code given with -m)`,
        );
      }
    }
    (spec.error_handling ?? []).forEach((h, i) => {
      if (h.action === 'reassign_task' && !functions.has(REASSIGN_FUNCTION)) {
        const path = joinPath(`${flowPath}.error_handling[${i}]`, 'action');
        out.push(
          `${at(path)}${path}: reassign_task calls the function '${REASSIGN_FUNCTION}', which no module registers`,
        );
      }
    });
  }
  return out;
}

/** Where a key path of `config` is written: `file:line:col`. */
function locator(config: Config): StepLocator {
  return (path) => {
    const loc = config.locate(path);
    return loc && formatLocation(loc);
  };
}

/** Where workflow `name`'s input spec, or one field of it, is written: `file:line:col`. */
function inputDeclared(config: Config, name: string): (field?: string) => string | undefined {
  const spec = joinPath(workflowPath(name), 'input');
  return (field) => locator(config)(field === undefined ? spec : joinPath(spec, field));
}

/** A workflow whose templates no longer compile (the configuration changed under a running process). */
function invalid(config: Config, problems: readonly KindProblem[]): BatonError {
  const lines = problems.map((p) => {
    const at = p.offset === undefined ? config.locate(p.path) : config.locateChar(p.path, p.offset);
    return `${at ? `${formatLocation(at)}: ` : ''}${p.path}: ${p.message}`;
  });
  return new BatonError('E_CONFIG_INVALID', lines.join('\n'), { details: { problems } });
}
