// The `workflows` kind (workflows.yaml): workflows defined in YAML, compiled onto the durable engine.
// This file checks the format (every key, types, ranges, unique step ids, required fields per step
// type); the semantics (templates, references to later steps, functions) are checked elsewhere.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const name = z.string().min(1);
const expression = z.string().min(1);
const freeMap = z.record(z.string(), z.unknown());

/** The step types: the seed's six, then those the workflow issue adds. */
const STEP_TYPES = [
  'database',
  'function',
  'conditional',
  'loop',
  'query',
  'notification',
  'switch',
  'parallel',
  'foreach',
  'wait',
  'http',
  'subflow',
  'assign',
  'set',
  'fail',
  'emit',
] as const;
type StepType = (typeof STEP_TYPES)[number];

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** A duration: a positive whole number of seconds, or a string such as `500ms`, `30s`, `5m`, `2h`, `7d`. */
const duration = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  const ok = typeof v === 'number' ? Number.isInteger(v) && v > 0 : DURATION.test(v);
  if (!ok) {
    ctx.addIssue({
      code: 'custom',
      message: "a duration is a positive whole number of seconds or a string such as '30s', '5m' or '2h'",
    });
  }
});

const stepId = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'a step id starts with a letter or _ and has only letters, digits and _',
  );

const retry = z
  .strictObject({
    max_attempts: z.number().int().min(1).describe('Attempts in all, including the first'),
    backoff: z
      .strictObject({
        base_delay: duration.optional().describe('Delay before the first retry (seconds or 30s, 5m, …)'),
        max_delay: duration.optional().describe('Longest delay between attempts'),
        factor: z.number().min(1).optional().describe('Factor each delay grows by'),
        jitter: z.enum(['full', 'none']).optional().describe('full draws each delay from [0, delay]'),
      })
      .optional()
      .describe('Delays between attempts'),
  })
  .describe("Retries of this step, applied before the workflow's error_handling");

/** The keys of a step that do not hold other steps. */
const stepBaseShape = {
  type: z.enum(STEP_TYPES).describe('What the step does'),
  description: z.string().optional().describe('What the step is for'),
  if: expression.optional().describe('Run the step only when this expression is true'),
  retry: retry.optional(),
  timeout: duration.optional().describe('Time limit of the step: seconds, or 30s, 5m, 2h'),
  // database
  action: z
    .enum(['insert', 'update', 'delete', 'select'])
    .optional()
    .describe('database: the statement; insert returns the new row with its id'),
  datasource: name.optional().describe('database: datasource name (default: the default datasource)'),
  table: name.optional().describe('database: table name'),
  data: freeMap.optional().describe('database: column values; emit: the event payload'),
  where: freeMap.optional().describe('database: column values that select the rows'),
  // function
  function: name.optional().describe('function: name of a registered TypeScript function'),
  queue: name
    .optional()
    .describe("function: run it as an activity on this queue (its own execution, under the queue's limits)"),
  input: freeMap.optional().describe('function, subflow: the input, templates allowed'),
  // conditional, loop
  condition: expression.optional().describe('conditional: the test; loop: repeat while true'),
  // loop
  interval_seconds: positiveInt.optional().describe('loop: seconds between iterations'),
  max_iterations: positiveInt.optional().describe('loop: most iterations (required: every loop is bounded)'),
  // query
  query: name.optional().describe('query: name of a named query'),
  params: freeMap.optional().describe('query: parameter values'),
  // notification, fail
  channel: name.optional().describe('notification: channel (dashboard, log, webhook)'),
  message: z.string().optional().describe('notification: the text; fail: the error message'),
  // switch
  value: expression.optional().describe('switch: the expression whose value picks a case'),
  // foreach
  items: z
    .union([expression, z.array(z.unknown())])
    .optional()
    .describe('foreach: the list, or an expression giving it'),
  concurrency: positiveInt.optional().describe('foreach: most items in flight at once'),
  // wait
  duration: duration.optional().describe('wait: how long to wait'),
  until: expression.optional().describe('wait: the moment to wait for (an expression giving a time)'),
  signal: name.optional().describe('wait: name of the signal to wait for (with timeout)'),
  approval: z
    .strictObject({
      prompt: z.string().optional().describe('What the dashboard asks the approver'),
      approvers: z.array(name).optional().describe('Who may approve'),
    })
    .optional()
    .describe('wait: wait for an approval'),
  // http
  method: z.enum(HTTP_METHODS).optional().describe('http: the method (default GET)'),
  url: z.string().min(1).optional().describe('http: the URL; its host must be allowed in config'),
  headers: z.record(z.string(), z.string()).optional().describe('http: request headers'),
  body: z.unknown().optional().describe('http: request body'),
  // subflow
  workflow: name.optional().describe('subflow: name of the YAML or code workflow to start'),
  wait: z.boolean().optional().describe('subflow: wait for the subflow to finish (default true)'),
  // assign
  task: freeMap.optional().describe('assign: the task sent through the router (type, prompt, priority, …)'),
  // set
  vars: freeMap.optional().describe('set: variables to set, by name'),
  // emit
  event: name.optional().describe('emit: name of the event'),
};

/** Keys any step may have, whatever its type. */
const COMMON_KEYS = new Set(['id', 'type', 'description', 'if', 'retry', 'timeout', 'compensate']);

/** The keys each step type requires and allows, beyond COMMON_KEYS. */
const TYPE_KEYS: Record<StepType, { required: readonly string[]; optional: readonly string[] }> = {
  database: { required: ['action', 'table'], optional: ['datasource', 'data', 'where'] },
  function: { required: ['function'], optional: ['input', 'queue'] },
  conditional: { required: ['condition', 'if_true'], optional: ['if_false'] },
  loop: { required: ['max_iterations', 'actions'], optional: ['condition', 'interval_seconds'] },
  query: { required: ['query'], optional: ['params'] },
  notification: { required: ['channel', 'message'], optional: [] },
  switch: { required: ['value', 'cases'], optional: ['default'] },
  parallel: { required: ['branches'], optional: [] },
  foreach: { required: ['items', 'steps'], optional: ['concurrency'] },
  wait: { required: [], optional: ['duration', 'until', 'signal', 'approval'] },
  http: { required: ['url'], optional: ['method', 'headers', 'body'] },
  subflow: { required: ['workflow'], optional: ['input', 'wait'] },
  assign: { required: ['task'], optional: [] },
  set: { required: ['vars'], optional: [] },
  fail: { required: ['message'], optional: [] },
  emit: { required: ['event'], optional: ['data'] },
};

/** Checks that a step has the keys its type requires, and none that belong to other types. */
function checkStepKeys(step: Record<string, unknown> & { type: StepType }, ctx: z.core.$RefinementCtx): void {
  const spec = TYPE_KEYS[step.type];
  for (const key of Object.keys(step)) {
    if (COMMON_KEYS.has(key) || spec.required.includes(key) || spec.optional.includes(key)) continue;
    const owners = STEP_TYPES.filter(
      (t) => TYPE_KEYS[t].required.includes(key) || TYPE_KEYS[t].optional.includes(key),
    );
    ctx.addIssue({
      code: 'custom',
      message: `'${key}' does not apply to a ${step.type} step (it belongs to: ${owners.join(', ')})`,
      path: [key],
    });
  }
  for (const key of spec.required) {
    if (step[key] === undefined) {
      const why = key === 'max_iterations' ? ', so that every loop is bounded' : '';
      ctx.addIssue({ code: 'custom', message: `a ${step.type} step needs '${key}'${why}`, path: [key] });
    }
  }
  if (step.type === 'wait') {
    const forms = ['duration', 'until', 'signal', 'approval'].filter((k) => step[k] !== undefined);
    if (forms.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a wait step has exactly one of duration, until, signal or approval (found ${forms.length})`,
        path: forms.length > 1 ? [forms[1]] : [],
      });
    }
  }
}

type StepBase = z.output<z.ZodObject<typeof stepBaseShape>>;

/** One step, or a list of steps run in order. */
export type StepOrSteps = NestedStep | NestedStep[];

/** A step inside another step (`if_true`, `actions`, `compensate`, …): its `id` is optional. */
export interface NestedStep extends StepBase {
  id?: string;
  if_true?: StepOrSteps;
  if_false?: StepOrSteps;
  actions?: NestedStep[];
  compensate?: NestedStep;
  steps?: NestedStep[];
  branches?: StepOrSteps[];
  cases?: Record<string, StepOrSteps>;
  default?: StepOrSteps;
}

/** A step of a workflow's `steps` or `finally` list: it has an `id`, unique in its workflow. */
export interface WorkflowStep extends NestedStep {
  id: string;
}

// The keys of a step that hold other steps. A function, so that the lazy schemas it uses exist by then.
const nestedShape = () => ({
  if_true: stepOrSteps.optional().describe('conditional: run when the condition is true (a step or a list)'),
  if_false: stepOrSteps
    .optional()
    .describe('conditional: run when the condition is false (a step or a list)'),
  actions: z.array(nestedStep).min(1).optional().describe('loop: the steps of each iteration'),
  compensate: nestedStep.optional().describe('A step that undoes this one, run on rollback'),
  steps: z.array(nestedStep).min(1).optional().describe('foreach: the steps run for each item'),
  branches: z.array(stepOrSteps).min(1).optional().describe('parallel: branches run at once'),
  cases: z.record(z.string(), stepOrSteps).optional().describe('switch: what to run for each value'),
  default: stepOrSteps.optional().describe('switch: what to run when no case matches'),
});

const nestedStep: z.ZodType<NestedStep> = z.lazy(() =>
  z
    .strictObject({
      ...stepBaseShape,
      id: stepId.optional().describe('Step id (optional here)'),
      ...nestedShape(),
    })
    .superRefine(checkStepKeys),
);

// When neither form fits, the error tells what is wrong with the form the input has (zod would only
// say 'Invalid input').
const stepOrSteps: z.ZodType<StepOrSteps> = z.lazy(() =>
  z.union([nestedStep, z.array(nestedStep).min(1)], {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined;
      const first = iss.errors[Array.isArray(iss.input) ? 1 : 0]?.[0];
      if (!first) return undefined;
      const where = first.path.length ? `${first.path.join('.')}: ` : '';
      return `${Array.isArray(iss.input) ? 'a step of the list' : 'not a valid step'}: ${where}${first.message}`;
    },
  }),
);

const workflowStep: z.ZodType<WorkflowStep> = z.lazy(() =>
  z
    .strictObject({
      ...stepBaseShape,
      id: stepId.describe('Step id, unique in the workflow'),
      ...nestedShape(),
    })
    .superRefine(checkStepKeys),
);

const trigger = z
  .strictObject({
    // `cron` is the workflow issue's name for a schedule trigger: read as `schedule`, so that every
    // consumer (the worker's schedules, the checks, the dashboard) has one kind to handle.
    type: z
      .enum(['api', 'schedule', 'cron', 'manual', 'event'])
      .overwrite((t) => (t === 'cron' ? 'schedule' : t))
      .describe('What starts the workflow (cron is another name for schedule)'),
    endpoint: z
      .string()
      .regex(/^\/\S*$/, "an endpoint is a path such as '/api/features'")
      .optional()
      .describe('api: the HTTP path'),
    method: z.enum(HTTP_METHODS).optional().describe('api: the HTTP method'),
    cron: z
      .string()
      .regex(
        /^(@(yearly|annually|monthly|weekly|daily|hourly)|\S+(\s+\S+){4,5})$/,
        "a cron expression of 5 or 6 fields ('0 * * * *') or @hourly, @daily, …",
      )
      .optional()
      .describe('schedule (or cron): cron expression'),
    event: name.optional().describe('event: name of the event'),
    filter: expression.optional().describe('event: start only for events where this expression is true'),
  })
  .superRefine((t, ctx) => {
    const needs: Record<string, string | undefined> = { api: 'endpoint', schedule: 'cron', event: 'event' };
    const owner: Record<string, string> = {
      endpoint: 'api',
      method: 'api',
      cron: 'schedule',
      event: 'event',
      filter: 'event',
    };
    const need = needs[t.type];
    if (need && t[need as keyof typeof t] === undefined) {
      ctx.addIssue({ code: 'custom', message: `a ${t.type} trigger needs '${need}'`, path: [need] });
    }
    for (const key of Object.keys(t)) {
      if (owner[key] && owner[key] !== t.type) {
        ctx.addIssue({
          code: 'custom',
          message: `'${key}' applies to ${owner[key]} triggers, not ${t.type}`,
          path: [key],
        });
      }
    }
  })
  .describe('What starts the workflow, besides `baton flows run`');

const errorHandler = z
  .strictObject({
    on_error: name.describe('Which errors: any, timeout, or an error code'),
    action: z.enum(['rollback', 'reassign_task', 'retry', 'fail', 'continue']).describe('What to do'),
    steps: z.array(stepId).optional().describe('rollback: ids of the steps whose compensation runs'),
    to_session: name.optional().describe('reassign_task: the session to reassign to'),
  })
  .superRefine((h, ctx) => {
    if (h.steps !== undefined && h.action !== 'rollback') {
      ctx.addIssue({
        code: 'custom',
        message: `'steps' applies to rollback, not ${h.action}`,
        path: ['steps'],
      });
    }
    if (h.to_session !== undefined && h.action !== 'reassign_task') {
      ctx.addIssue({
        code: 'custom',
        message: `'to_session' applies to reassign_task, not ${h.action}`,
        path: ['to_session'],
      });
    }
  })
  .describe('What to do when a step fails');

type Path = (string | number)[];

/** Calls `visit` on every step of a list and on the steps nested in them, with their paths. */
export function walkSteps(
  list: readonly NestedStep[],
  path: Path,
  visit: (s: NestedStep, p: Path) => void,
): void {
  list.forEach((s, i) => walkStep(s, [...path, i], visit));
}

function walkStep(step: NestedStep, path: Path, visit: (s: NestedStep, p: Path) => void): void {
  visit(step, path);
  const one = (v: StepOrSteps | undefined, p: Path): void => {
    if (Array.isArray(v)) walkSteps(v, p, visit);
    else if (v) walkStep(v, p, visit);
  };
  one(step.if_true, [...path, 'if_true']);
  one(step.if_false, [...path, 'if_false']);
  if (step.actions) walkSteps(step.actions, [...path, 'actions'], visit);
  if (step.compensate) walkStep(step.compensate, [...path, 'compensate'], visit);
  if (step.steps) walkSteps(step.steps, [...path, 'steps'], visit);
  step.branches?.forEach((b, i) => one(b, [...path, 'branches', i]));
  for (const [k, v] of Object.entries(step.cases ?? {})) one(v, [...path, 'cases', k]);
  one(step.default, [...path, 'default']);
}

const workflow = z
  .strictObject({
    description: z.string().optional().describe('What the workflow does'),
    version: z.string().optional().describe('Version label of this workflow'),
    input: freeMap.optional().describe('The input fields and their types, checked at start'),
    trigger: trigger.optional(),
    steps: z.array(workflowStep).min(1).describe('The steps, run in order'),
    error_handling: z.array(errorHandler).optional().describe('Handlers tried in order when a step fails'),
    finally: z.array(workflowStep).optional().describe('Steps that always run at the end'),
    timeout: duration.optional().describe('Time limit of a run: seconds, or 30s, 5m, 2h'),
  })
  .superRefine((w, ctx) => {
    const ids = new Set<string>();
    const visit = (s: NestedStep, p: Path): void => {
      if (s.id === undefined) return;
      if (ids.has(s.id)) {
        ctx.addIssue({
          code: 'custom',
          message: `step id '${s.id}' is used twice in this workflow`,
          path: [...p, 'id'],
        });
      }
      ids.add(s.id);
    };
    walkSteps(w.steps, ['steps'], visit);
    walkSteps(w.finally ?? [], ['finally'], visit);
    w.error_handling?.forEach((h, i) =>
      h.steps?.forEach((id, j) => {
        if (!ids.has(id)) {
          ctx.addIssue({
            code: 'custom',
            message: `no step has the id '${id}'`,
            path: ['error_handling', i, 'steps', j],
          });
        }
      }),
    );
  })
  .describe('One workflow');

/**
 * Schema of `workflows.yaml`: workflows defined in YAML, which Baton compiles onto its durable
 * engine. Each workflow, by name, has an optional trigger (api, schedule or cron, manual, event),
 * an input spec, a list of steps (database, function, conditional, loop, query, notification,
 * switch, parallel, foreach, wait, http, subflow, assign, set, fail, emit) with ids unique in the
 * workflow, retries, timeouts and compensations, error handlers (rollback, reassign_task, …), and
 * `finally` steps. This schema checks the format; template and reference checks come later.
 */
export const workflowsSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    settings: z
      .strictObject({
        env: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'))
          .optional()
          .describe('Environment variables templates may read as env.NAME (read at start)'),
        http_allowed_hosts: z
          .array(z.string().min(1))
          .optional()
          .describe('Hosts http steps may call: api.example.com, or *.example.com'),
        queues: z
          .record(
            name,
            z.strictObject({
              concurrency: positiveInt.describe(
                'At most this many activities of the queue at once, across all workers',
              ),
            }),
          )
          .optional()
          .describe(
            'Limits of the queues function steps run on as activities (`queue:`), applied when the flows start',
          ),
      })
      .optional()
      .describe('What the workflows of this file may reach'),
    workflows: z.record(z.string(), workflow).optional().describe('Workflows by name'),
  })
  .describe('YAML workflows (workflows.yaml)');

/** The validated content of `workflows.yaml`: workflow definitions by name. */
export type WorkflowsConfig = z.output<typeof workflowsSchema>;
