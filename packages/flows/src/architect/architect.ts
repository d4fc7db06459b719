// The Architect as a library: tasks, sessions and SLAs over one store. `createArchitect` is what the
// CLI, the control plane and any program (a `client` session) use.
import { Client, createLogger, type Logger, type Store, type WorkflowDefinition } from '@baton/core';
import { LocalEvent, type ArchitectContext, type ArchitectRules } from './context.js';
import { SessionRegistry } from './sessions.js';
import {
  acknowledgeAlert,
  checkSla,
  slaReport,
  type SlaCheck,
  type SlaReport,
  type StoredAlert,
} from './sla-monitor.js';
import { migrateArchitect } from './store/schema.js';
import { TaskService } from './tasks.js';
import { defineTaskWorkflow, workflowStarter, type TaskWorkflowInput } from './workflow.js';

export interface ArchitectOptions {
  readonly store: Store;
  /** The rules in force; called on every use, so a watched configuration takes effect at once. */
  readonly rules: () => ArchitectRules;
  /** The clock, ms since the epoch (default Date.now); tests control it. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Creates the Architect's tables when missing (default true). */
  readonly migrate?: boolean;
}

export interface Architect {
  readonly tasks: TaskService;
  readonly sessions: SessionRegistry;
  /** The workflow every task runs as; a worker serving the `architect` queue runs it. */
  readonly workflow: WorkflowDefinition<TaskWorkflowInput>;
  readonly context: ArchitectContext;
  /** One pass of the SLA monitor (alerts stored, deduplicated and delivered). */
  checkSla(): Promise<SlaCheck>;
  /** Open tasks' SLA status, compliance per type, queue depth and open alerts. */
  slaReport(): Promise<SlaReport>;
  /** Marks an alert acknowledged by `by` (kept with the alert; the first acknowledgement stays). */
  acknowledgeAlert(id: number, by: string): Promise<StoredAlert>;
}

export async function createArchitect(options: ArchitectOptions): Promise<Architect> {
  if (options.migrate !== false) await migrateArchitect(options.store.driver);
  const context: ArchitectContext = {
    taskEnded: new LocalEvent(),
    driver: options.store.driver,
    client: new Client(options.store),
    rules: options.rules,
    now: options.now ?? Date.now,
    log: options.logger ?? createLogger('warn'),
    events: {},
  };
  const workflow = defineTaskWorkflow(context);
  const tasks = new TaskService(
    context,
    workflowStarter(context.client, () => workflow),
  );
  return {
    tasks,
    sessions: new SessionRegistry(context, (o) => tasks.dispatch(o)),
    workflow,
    context,
    checkSla: () => checkSla(context),
    slaReport: () => slaReport(context),
    acknowledgeAlert: (id, by) => acknowledgeAlert(context, id, by),
  };
}
