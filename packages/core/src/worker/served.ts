// What a worker serves: its jobs, workflows and schedules, and the queues and names it claims. Built
// from the worker's options and grown by `Worker.serve` while it runs (a configuration reload that
// adds YAML workflows), so the parts that claim, dispatch and fire read it live. Nothing is ever
// taken away: executions already started on a definition must still find it here.
import { BatonError } from '../errors.js';
import { checkName, type JobDefinition } from '../job.js';
import { isWorkflowDefinition, type WorkflowDefinition } from '../workflow/definition.js';
import type { ScheduleDefinition } from '../schedule.js';

/** Definitions to serve: what a worker starts with, or what `Worker.serve` adds. */
export interface Servable {
  /** Jobs to run. A worker claims only the names of its jobs and workflows. */
  jobs?: readonly JobDefinition[];
  /** Workflows to run. */
  workflows?: readonly WorkflowDefinition[];
  /** Cron schedules to help fire; one with the name of a served schedule replaces it. */
  schedules?: readonly ScheduleDefinition[];
  /** Queues to serve. Default: every queue the definitions given name. */
  queues?: readonly string[];
}

/** What `add` changed. */
export interface ServedChange {
  readonly jobs: readonly JobDefinition[];
  readonly workflows: readonly WorkflowDefinition[];
  readonly schedulesChanged: boolean;
  readonly queuesChanged: boolean;
}

export class Served {
  readonly jobs = new Map<string, JobDefinition>();
  readonly workflows = new Map<string, WorkflowDefinition>();
  private scheduleList: ScheduleDefinition[] = [];
  private queueList: string[] = [];
  private nameList: string[] = [];

  /** Cron schedules this worker helps fire. */
  get schedules(): readonly ScheduleDefinition[] {
    return this.scheduleList;
  }

  get queues(): readonly string[] {
    return this.queueList;
  }

  /** Every name it claims: its jobs' and its workflows'. */
  get names(): readonly string[] {
    return this.nameList;
  }

  /**
   * Adds definitions. A name already served by the same definition is skipped; by another one, or
   * given twice, is `E_DUPLICATE_DEFINITION`. Everything is checked before anything changes.
   */
  add(more: Servable): ServedChange {
    const jobs: JobDefinition[] = [];
    const workflows: WorkflowDefinition[] = [];
    const seen = new Set<string>();
    for (const d of [...(more.jobs ?? []), ...(more.workflows ?? [])]) {
      const served = this.jobs.get(d.name) ?? this.workflows.get(d.name);
      if (served === d) continue;
      if (served || seen.has(d.name)) {
        throw new BatonError(
          'E_DUPLICATE_DEFINITION',
          `'${d.name}' is given to the worker twice (two different definitions with one name)`,
        );
      }
      seen.add(d.name);
      if (isWorkflowDefinition(d)) workflows.push(d);
      else jobs.push(d);
    }
    const schedules = more.schedules ?? [];
    for (const s of schedules) {
      const job = s.job.name;
      if (!this.jobs.has(job) && !jobs.some((j) => j.name === job)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `schedule '${s.name}' runs job '${job}', which this worker does not have in \`jobs\``,
        );
      }
    }
    const queues = (more.queues ?? [...jobs, ...workflows].map((d) => d.queue)).map((q) =>
      checkName(q, 'queue'),
    );

    for (const d of jobs) this.jobs.set(d.name, d);
    for (const d of workflows) this.workflows.set(d.name, d);
    this.nameList = [...this.jobs.keys(), ...this.workflows.keys()];
    const newQueues = queues.filter((q) => !this.queueList.includes(q));
    if (newQueues.length) this.queueList = [...new Set([...this.queueList, ...newQueues])];
    const byName = new Map(this.scheduleList.map((s) => [s.name, s]));
    const schedulesChanged = schedules.some((s) => byName.get(s.name) !== s);
    for (const s of schedules) byName.set(s.name, s);
    this.scheduleList = [...byName.values()];
    return { jobs, workflows, schedulesChanged, queuesChanged: newQueues.length > 0 };
  }
}
