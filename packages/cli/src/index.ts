export { main, buildProgram } from './program.js';
export { loadUserModule, loadUserModules, type LoadedModule } from './load-module.js';
export type { Io, GlobalOptions } from './context.js';
export type { DemoFn } from './commands/dev.js';
export {
  workflowTimeline,
  timelineText,
  workflowDetail,
  workflowTable,
  type TimelineLine,
  type DescribedWorkflow,
} from './format.js';
