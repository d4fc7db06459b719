// The contracts of a YAML workflow's run: what a registered function receives, and what the
// interpreter calls out to (functions, tables, http, queries, notifications, subflows, the router).
import type { JobDefinition, Json, WorkflowDefinition } from '@baton/core';
import type { TableStatement } from './database.js';
import type { HttpRequest, HttpResponse } from './http.js';
import type { TaskView } from '../architect/store/view.js';

/** Where a function's call sits: the same on every attempt of the step. */
export interface FlowCallSite {
  /**
   * The same on every try of the step (its `retry` attempts, a re-run after a crash) and on replay;
   * hand it to external systems. A function's is `<run id>:<step name>`.
   */
  readonly idempotencyKey: string;
  /** The step's try, from 1: its `retry` attempts and its re-runs after a crash. */
  readonly attempt: number;
  /** Fires when the run is cancelled or the step times out. */
  readonly signal: AbortSignal;
  readonly workflowId: string;
  readonly step: string;
}

/** What a registered function receives besides its input. */
export interface FlowFunctionContext extends FlowCallSite {
  /** Runs a named query of queries.yaml; rows are JSON. */
  readonly query: FlowServices['query'];
  /**
   * The Architect's tasks, where this process has the Architect (`baton flows` and `baton architect`
   * do when routing_rules.yaml exists); undefined otherwise.
   */
  readonly tasks: FlowTasks | undefined;
}

/** The Architect's tasks as a function step sees them. */
export interface FlowTasks {
  /**
   * Sends a task through the router, once per step: a repeat of the step after a crash finds the
   * task it sent instead of sending another. `key` tells apart several tasks one step sends.
   */
  send(task: Record<string, unknown>, options?: { key?: string }): Promise<TaskView>;
  show(id: string): Promise<TaskView>;
  /** The task step `step` of this run sent with `send` (and `key`), or undefined when it sent none. */
  sentBy(step: string, options?: { key?: string }): Promise<TaskView | undefined>;
  /** Takes an open task from its session and routes it again, to `to` when given. */
  reassign(id: string, to?: string): Promise<TaskView>;
}

/** A TypeScript function a YAML `function` step calls by name. Its result must be JSON. */
export type FlowFunction = (input: Json, ctx: FlowFunctionContext) => Promise<unknown> | unknown;

/** What a function's activity receives: the step's input, and which run and step it serves. */
export interface ActivityInput {
  readonly input: Json;
  readonly run: string;
  readonly step: string;
  /** The step's try (its `retry` attempts count from 1). */
  readonly attempt?: number;
}

/** A notification sent by a `notification` step. */
export interface FlowNotification {
  readonly channel: string;
  readonly message: string;
  readonly workflow: string;
  readonly run: string;
  readonly step: string;
}

/** What the interpreter calls out to. */
export interface FlowServices {
  function(name: string): FlowFunction | undefined;
  /** The job that runs function `name` as an activity (a function step with `queue:`). */
  functionJob(name: string): JobDefinition<ActivityInput, unknown> | undefined;
  /** Runs a `database` step's statement; rows are JSON. */
  table(s: TableStatement): Promise<Record<string, unknown>[]>;
  /** Sends an http step's request to an allowed host. */
  http(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
  /** Runs a named query; rows are JSON. */
  query(
    name: string,
    params: Readonly<Record<string, unknown>>,
  ): Promise<{ results: readonly unknown[]; count: number }>;
  notify(n: FlowNotification): Promise<void>;
  /** The workflow a subflow step starts: a YAML workflow or a code workflow registered by a worker. */
  workflow(name: string): WorkflowDefinition | undefined;
  /**
   * Sends a task through the Architect's router (an assign step), under the id `id` (a repeat after
   * a crash finds the task already sent). The task signals `task:<id>` to the run when it ends.
   */
  assign(task: Record<string, unknown>, id: string): Promise<{ task: string; status: string }>;
  /** The Architect's tasks for a function called at `site`; undefined without the Architect. */
  tasks(site: FlowCallSite): FlowTasks | undefined;
  /** Emits an event (an emit step): starts the event-triggered workflows it matches, idempotently. */
  emit(event: string, data: unknown, idPrefix: string): Promise<readonly { workflow: string; id: string }[]>;
  /** The input a YAML subflow starts with (its version pinned now); the input as is for a code workflow. */
  childInput(name: string, input: unknown): Promise<unknown>;
}

/** What a finished run returns: every step's output by id, and the variables. */
export interface FlowOutput {
  readonly steps: Record<string, unknown>;
  readonly vars: Record<string, unknown>;
}

/** The context a function called at `site` receives. */
export function functionContext(services: FlowServices, site: FlowCallSite): FlowFunctionContext {
  return { ...site, query: services.query, tasks: services.tasks(site) };
}
