// The functions the seed's workflows (baton/base/workflows.yaml) call by name. Run them with:
//   npx --no-install baton flows run bug_fix -m examples/architect/flows.ts --config-dir examples/architect/baton
// Each runs as a durable step of its workflow: recorded once done, at least once if a worker dies
// mid-way (ctx.idempotencyKey is the same on every attempt: hand it to external systems).
import { defineFlowFunction } from '@baton/flows';

interface RoutingInput {
  task_id: number;
  urgent?: boolean;
}

/**
 * The router. Reads the task the workflow inserted (the named query tasks_by_id) and sends it through
 * the Architect's router, which applies the same routing_rules.yaml the seed passes in (preferred
 * sessions, providers, constraints) and weighs the live sessions' state, load and capacity
 * (docs/architect.md). The task is sent once per step, however often the step runs. `session_id` is
 * the session the router picked, or null while none can take the task: it then waits, queued, and
 * `baton tasks explain <architect_task>` says why.
 */
export const routeTaskToSession = defineFlowFunction('route_task_to_session', async (input, ctx) => {
  const { task_id, urgent } = input as unknown as RoutingInput;
  if (!ctx.tasks) {
    throw new Error(
      'route_task_to_session sends tasks through the Architect: the configuration needs routing_rules.yaml',
    );
  }
  const [row] = (await ctx.query('tasks_by_id', { id: task_id })).results as {
    type: string;
    priority: number;
  }[];
  if (!row) throw new Error(`task ${task_id} is not in the tasks table`);
  const sent = await ctx.tasks.send({
    type: row.type,
    prompt: `${row.type.replace(/_/g, ' ')}: task ${task_id} of workflow run ${ctx.workflowId}`,
    priority: urgent === true ? 10 : Math.min(10, row.priority),
  });
  return {
    task_id,
    architect_task: sent.id,
    session_id: sent.assigned_session,
    status: sent.status,
    urgent: urgent === true,
  };
});

/** How long create_test_environment waits for the create_env hook's record. */
const HOOK_WAIT_MS = 30_000;

/**
 * The test environment of the task route_task_to_session sent (step assign_to_session). The Architect
 * leased its port from the same port_range when it assigned the task (unique across tasks and
 * processes, freed when the task ends, crash or not) and ran the create_env hook of routing_rules.yaml
 * before the session could start; this reports both. While no session has the task, it has no port:
 * the step fails, and its retry (or the workflow's error handling) decides what follows.
 */
export const createTestEnvironment = defineFlowFunction('create_test_environment', async (input, ctx) => {
  const { port_range, session_id } = input as { port_range: [number, number]; session_id: string | null };
  if (!ctx.tasks) {
    throw new Error(
      'create_test_environment reads the port the Architect leased: the configuration needs routing_rules.yaml',
    );
  }
  let task = await ctx.tasks.sentBy('assign_to_session');
  if (!task) throw new Error(`run ${ctx.workflowId} sent no task from step assign_to_session`);
  if (task.port === null) {
    throw new Error(
      `task ${task.id} has no port yet (${task.waiting_because ?? task.status}); the Architect leases one from ${JSON.stringify(port_range)} when it assigns the task`,
    );
  }
  // The hook runs right after the assignment, in the task's own workflow: wait for its record.
  const hookOf = (t: typeof task) => t?.history?.filter((h) => h.event === 'hook').at(-1);
  for (let waited = 0; !hookOf(task) && task?.status === 'assigned' && waited < HOOK_WAIT_MS; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    ctx.signal.throwIfAborted();
    task = await ctx.tasks.sentBy('assign_to_session');
  }
  if (!task) throw new Error(`run ${ctx.workflowId}: its task is gone`);
  // A session starts a task only once its environment is ready: past `assigned` with no hook
  // record, none is configured (routing_rules.yaml: environment_settings.hooks.create_env).
  const hook =
    hookOf(task)?.reason ??
    (task.status === 'assigned'
      ? 'the create_env hook has not finished'
      : 'no create_env hook is configured');
  return {
    env_id: `env-${task.id}`,
    port: task.port,
    session_id: session_id ?? task.assigned_session,
    branch_name: `feature/${task.assigned_session}-${task.port}`,
    hook,
  };
});

/** Records the pull request it would open. */
export const createPullRequest = defineFlowFunction('create_pull_request', (input) => {
  const { branch, title } = input as { branch: string | null; title: string };
  return { would_open: { branch, title } };
});

/** Records the environment it would remove. */
export const cleanupEnvironment = defineFlowFunction('cleanup_environment', (input) => {
  const { env_id } = input as { env_id: string | null };
  return { would_remove: env_id };
});

/**
 * What the `reassign_task` error handler calls (`to_session: dev_worker2` in feature_development):
 * moves the workflow's Architect task to that session, unless it has already ended or is already
 * there (the step runs at least once, so a repeat must not move it twice).
 */
export const reassignTask = defineFlowFunction('reassign_task', async (input, ctx) => {
  const { to_session, failed_step, steps } = input as {
    to_session: string | null;
    failed_step: string;
    steps: { create_task?: { id?: number }; assign_to_session?: { architect_task?: string } };
  };
  const task_id = steps.create_task?.id ?? null;
  const architectTask = steps.assign_to_session?.architect_task;
  const record = { task_id, architect_task: architectTask ?? null, to_session, after: failed_step };
  if (!ctx.tasks || !architectTask)
    return { ...record, moved: false, why: 'the workflow sent no Architect task' };
  const task = await ctx.tasks.show(architectTask);
  if (['completed', 'failed', 'cancelled'].includes(task.status)) {
    return { ...record, moved: false, why: `the task is already ${task.status}` };
  }
  if (to_session !== null && task.assigned_session === to_session) {
    return { ...record, moved: false, why: `the task is already on ${to_session}` };
  }
  const moved = await ctx.tasks.reassign(architectTask, to_session ?? undefined);
  return { ...record, moved: true, status: moved.status, session: moved.assigned_session };
});
