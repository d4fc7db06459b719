// The contracts of a YAML workflow's run: what a registered function receives, and what the
// interpreter calls out to (functions, tables, http, queries, notifications, subflows, the router).
import type { JobDefinition, Json, WorkflowDefinition } from '@baton/core';
import type { TableStatement } from './database.js';
import type { HttpRequest, HttpResponse } from './http.js';

/** What a registered function receives besides its input. */
export interface FlowFunctionContext {
  /** `<run id>:<position>`: the same on every attempt and replay; hand it to external systems. */
  readonly idempotencyKey: string;
  readonly attempt: number;
  /** Fires when the run is cancelled or the step times out. */
  readonly signal: AbortSignal;
  readonly workflowId: string;
  readonly step: string;
}

/** A TypeScript function a YAML `function` step calls by name. Its result must be JSON. */
export type FlowFunction = (input: Json, ctx: FlowFunctionContext) => Promise<unknown> | unknown;

/** What a function's activity receives: the step's input, and which run and step it serves. */
export interface ActivityInput {
  readonly input: Json;
  readonly run: string;
  readonly step: string;
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
