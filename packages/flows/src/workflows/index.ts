// YAML workflows (workflows.yaml) compiled onto the durable engine. See docs/flows.md.
export {
  createFlows,
  defineFlowFunction,
  isFlowFunction,
  unrunnableSteps,
  planRun,
  type Flows,
  type FlowsOptions,
  type FlowFunctionDefinition,
} from './flows.js';
export type {
  FlowCallSite,
  FlowFunction,
  FlowFunctionContext,
  FlowNotification,
  FlowOutput,
  FlowTasks,
} from './services.js';
export { migrateFlows, type FlowStartInput } from './versions.js';
export { checkInput } from './input.js';
export type { PlannedStep } from './plan.js';
