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

/** Leases the first port of the range for the session, then says what its setup hook would run. */
export const createTestEnvironment = defineFlowFunction('create_test_environment', (input, ctx) => {
  const { port_range, session_id } = input as { port_range: [number, number]; session_id: string };
  const [low, high] = port_range;
  if (!(Number.isInteger(low) && Number.isInteger(high) && low <= high)) {
    throw new Error(`port_range must be [low, high], got ${JSON.stringify(port_range)}`);
  }
  const env_id = `env-${ctx.idempotencyKey.replace(/[^A-Za-z0-9]/g, '').slice(-12)}`;
  return {
    env_id,
    port: low,
    session_id,
    branch_name: `feature/${session_id}-${low}`,
    hook: `setup ${env_id} on port ${low}`,
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
