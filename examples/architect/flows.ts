// The functions the seed's workflows (baton/base/workflows.yaml) call by name. Run them with:
//   npx --no-install baton flows run bug_fix -m examples/architect/flows.ts --config-dir examples/architect/baton
// Each runs as a durable step of its workflow: recorded once done, at least once if a worker dies
// mid-way (ctx.idempotencyKey is the same on every attempt: hand it to external systems).
import { defineFlowFunction } from '@baton/flows';

interface RoutingInput {
  task_id: number;
  routing_rules: { preferred_sessions?: string[]; priority?: number } | null;
  urgent?: boolean;
}

/**
 * Picks the session for a task from its type's routing rules: the first preferred session. The
 * Architect's own router (`baton tasks`, docs/architect.md) weighs load, health and capacity; this
 * example keeps to the rules the seed passes in.
 */
export const routeTaskToSession = defineFlowFunction('route_task_to_session', (input) => {
  const { task_id, routing_rules, urgent } = input as unknown as RoutingInput;
  const preferred = routing_rules?.preferred_sessions ?? [];
  if (preferred.length === 0) throw new Error(`task ${task_id}: its routing rules name no preferred session`);
  return { task_id, session_id: preferred[0], urgent: urgent === true, candidates: preferred };
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
 * records the move of the workflow's task to that session.
 */
export const reassignTask = defineFlowFunction('reassign_task', (input) => {
  const { to_session, failed_step, steps } = input as {
    to_session: string | null;
    failed_step: string;
    steps: { create_task?: { id?: number } };
  };
  return { task_id: steps.create_task?.id ?? null, to_session, after: failed_step };
});
