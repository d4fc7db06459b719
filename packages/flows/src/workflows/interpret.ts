// Runs a compiled YAML workflow inside a durable workflow. Every decision is taken from recorded data
// (the input, the configuration snapshot, recorded step outputs), so a replay takes the same path;
// every effect (a function, a query, a notification, a wait, a subflow) is a durable operation
// named after its step id, so `baton workflows show` reads like the YAML.
import { BatonError, type Json, type WorkflowContext } from '@baton/core';
import { REASSIGN_FUNCTION, type CompiledFlow, type CompiledStep } from './compile.js';
import { render, test } from './template.js';
import { itemScope, type Scope } from './scope.js';
import type { TableStatement } from './database.js';
import type { HttpRequest } from './http.js';
import { functionContext, type FlowCallSite, type FlowOutput, type FlowServices } from './services.js';
import { asStepError, durationMs, FlowStepError, jsonResult, kindOf, stepLabel } from './step-error.js';
import { awaitApproval, type ApprovalSpec } from './approval.js';

/** An http step's time limit when it sets none. */
const HTTP_TIMEOUT_MS = 30_000;

/** One run of a YAML workflow, from the top, against the workflow's history. */
export class FlowRun {
  /** Steps with a compensation, in the order they completed (the saga's log). */
  private readonly completed: CompiledStep[] = [];

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly flow: CompiledFlow,
    private readonly scope: Scope,
    private readonly services: FlowServices,
  ) {}

  async run(): Promise<FlowOutput> {
    let failure: FlowStepError | undefined;
    for (const step of this.flow.steps) {
      try {
        await this.exec(step, this.scope);
      } catch (err) {
        const handled = await this.handle(asStepError(err, step), step);
        if (handled) {
          failure = handled;
          break;
        }
      }
    }
    this.scope.error = failure ? { code: failure.code, message: failure.message, step: failure.step } : {};
    for (const step of this.flow.final) {
      try {
        await this.exec(step, this.scope);
      } catch (err) {
        failure ??= asStepError(err, step);
      }
    }
    if (failure) {
      throw new BatonError('E_FLOW_FAILED', `workflow '${this.flow.name}': ${failure.message}`, {
        details: { step: failure.step, code: failure.code },
      });
    }
    return { steps: this.scope.steps, vars: this.scope.vars };
  }

  /**
   * Applies the `error_handling` entry that matches the failure: the first naming its code (or
   * `timeout`), else the first `any`. Returns the error the run fails with, or undefined when the run
   * goes on. A `retry` that fails again passes the new failure to the next matching entry.
   */
  private async handle(err: FlowStepError, step: CompiledStep): Promise<FlowStepError | undefined> {
    let current = err;
    const names = (h: { on_error: string }): boolean =>
      h.on_error === current.code || (h.on_error === 'timeout' && current.code === 'E_TIMEOUT');
    // A handler that names the error wins over `any`, whatever their order (the seed lists `any` first).
    const handlers = this.flow.spec.error_handling ?? [];
    const ordered = [...handlers.filter(names), ...handlers.filter((h) => h.on_error === 'any')];
    for (const h of ordered) {
      switch (h.action) {
        case 'continue':
          if (step.id !== undefined)
            this.scope.steps[step.id] = { error: { code: current.code, message: current.message } };
          return undefined;
        case 'retry':
          try {
            await this.exec(step, this.scope);
            return undefined;
          } catch (again) {
            current = asStepError(again, step);
            continue;
          }
        case 'rollback':
          return (await this.rollback(h.steps)) ?? current;
        case 'fail':
          return current;
        case 'reassign_task':
          try {
            await this.reassign(h.to_session, current, step);
            return undefined;
          } catch (again) {
            current = asStepError(again, step);
            continue;
          }
      }
    }
    return current;
  }

  /**
   * `reassign_task`: calls the registered function `reassign_task` with the session to move the work
   * to, the failure and the outputs so far, as a durable step; the run then goes on after the failed
   * step. The function decides what reassigning means (the Architect's router, a row, a message).
   */
  private async reassign(
    toSession: string | undefined,
    err: FlowStepError,
    step: CompiledStep,
  ): Promise<void> {
    const fn = this.services.function(REASSIGN_FUNCTION);
    if (!fn) {
      throw new FlowStepError(
        `${err.message}; its handler reassign_task needs a function named '${REASSIGN_FUNCTION}' (defineFlowFunction)`,
        'E_UNKNOWN_FUNCTION',
        step.name,
      );
    }
    const input = {
      to_session: toSession ?? null,
      failed_step: step.name,
      error: { code: err.code, message: err.message },
      steps: this.scope.steps,
    };
    const out = await this.ctx.step(
      `${step.name}.reassign`,
      async (s) =>
        jsonResult(
          await fn(
            input as Json,
            functionContext(this.services, this.callSite(step, `${step.name}.reassign`, s, 1)),
          ),
          step,
        ) as Json,
      { input: input as Json },
    );
    if (step.id !== undefined) this.scope.steps[step.id] = { error: input.error, reassigned: out };
  }

  /** Runs the compensations of the listed steps that completed, newest first (a saga). */
  private async rollback(ids: readonly string[] | undefined): Promise<FlowStepError | undefined> {
    const wanted = ids === undefined ? undefined : new Set(ids);
    const errors: FlowStepError[] = [];
    for (const step of [...this.completed].reverse()) {
      if (wanted && !wanted.has(step.id ?? '')) continue;
      try {
        if (step.compensate) await this.list(step.compensate, this.scope);
        else await this.undoInsert(step);
      } catch (err) {
        errors.push(asStepError(err, step));
      }
    }
    if (errors.length === 0) return undefined;
    return new FlowStepError(
      `rollback: ${errors.map((e) => e.message).join('; ')}`,
      errors[0]!.code,
      errors[0]!.step,
    );
  }

  /**
   * The default compensation of a database insert: delete the row it inserted, by its `id`, as a
   * durable step of its own (`<step>.rollback`).
   */
  private async undoInsert(step: CompiledStep): Promise<void> {
    const row = (step.id === undefined ? undefined : this.scope.steps[step.id]) as
      { id?: unknown } | undefined;
    if (row?.id === undefined || row.id === null) {
      throw new FlowStepError(
        `cannot undo the insert of '${step.name}': the row it inserted has no id`,
        'E_INVALID_STATE',
        step.name,
      );
    }
    const statement: TableStatement = {
      action: 'delete',
      table: step.spec.table!,
      ...(step.spec.datasource === undefined ? {} : { datasource: step.spec.datasource }),
      where: { id: row.id },
    };
    await this.ctx.step(`${step.name}.rollback`, async () => (await this.services.table(statement)).length, {
      input: statement as unknown as Json,
    });
  }

  /** Runs steps in order; the output of the last one (an empty object when there is none). */
  private async list(steps: readonly CompiledStep[], scope: Scope): Promise<unknown> {
    let last: unknown = {};
    for (const s of steps) last = await this.exec(s, scope);
    return last;
  }

  /** One step: its `if`, its retries, and its output recorded under its id. */
  private async exec(step: CompiledStep, scope: Scope): Promise<unknown> {
    scope.now = this.ctx.now().getTime();
    // A step that does not run has an empty output, so `steps.x.field` reads null.
    if (step.when && !test(step.when, scope)) return this.record(step, scope, {});
    const retry = step.spec.retry;
    const attempts = retry?.max_attempts ?? 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.once(step, scope, attempt);
        if (step.compensate || isInsert(step)) this.completed.push(step);
        return this.record(step, scope, out);
      } catch (err) {
        const e = asStepError(err, step);
        if (attempt >= attempts) throw e;
        await this.ctx.sleep(this.backoff(step, attempt));
      }
    }
  }

  private record(step: CompiledStep, scope: Scope, out: unknown): unknown {
    if (step.id !== undefined) scope.steps[step.id] = out;
    if (step.type === 'query') scope.query = out;
    return out;
  }

  /** The delay before attempt `attempt + 1`: base × factor^(attempt−1), capped, with full jitter if asked. */
  private backoff(step: CompiledStep, attempt: number): number {
    const b = step.spec.retry?.backoff;
    const base = b?.base_delay === undefined ? 1000 : durationMs(b.base_delay, `${step.name}: base_delay`);
    const max = b?.max_delay === undefined ? 300_000 : durationMs(b.max_delay, `${step.name}: max_delay`);
    const delay = Math.min(max, base * (b?.factor ?? 2) ** (attempt - 1));
    // ctx.random() is recorded-deterministic: a replay draws the same jitter.
    return b?.jitter === 'full' ? Math.floor(this.ctx.random() * delay) : delay;
  }

  private timeoutOf(step: CompiledStep): number | undefined {
    return step.spec.timeout === undefined
      ? undefined
      : durationMs(step.spec.timeout, `${step.name}: timeout`);
  }

  private value(step: CompiledStep, key: string, scope: Scope): unknown {
    const t = step.values[key];
    return t === undefined ? undefined : render(t, scope);
  }

  /** A durable step whose input is recorded and whose function runs at least once. */
  private effect<T>(
    step: CompiledStep,
    input: unknown,
    fn: (s: FlowCallSite) => Promise<T>,
    defaultTimeout?: number,
  ): Promise<T> {
    const timeout = this.timeoutOf(step) ?? defaultTimeout;
    return this.ctx.step(
      step.name,
      (s) =>
        fn({
          idempotencyKey: s.idempotencyKey,
          attempt: s.attempt,
          signal: s.signal,
          workflowId: this.ctx.id,
          step: step.name,
        }),
      { input: input as Json, ...(timeout === undefined ? {} : { timeout }) },
    );
  }

  /**
   * Where a function is called: keyed by run and step name, so every try of the step (its `retry`
   * attempts, a re-run after a crash) has the same key, and `attempt` counts those tries.
   */
  private callSite(
    step: CompiledStep,
    key: string,
    s: { attempt: number; signal: AbortSignal },
    attempt: number,
  ): FlowCallSite {
    return {
      idempotencyKey: `${this.ctx.id}:${key}`,
      attempt: attempt + s.attempt - 1,
      signal: s.signal,
      workflowId: this.ctx.id,
      step: step.name,
    };
  }

  /** One try (`attempt`, from 1) of a step. */
  private async once(step: CompiledStep, scope: Scope, attempt: number): Promise<unknown> {
    const spec = step.spec;
    switch (step.type) {
      case 'set': {
        const vars = this.value(step, 'vars', scope) as Record<string, unknown>;
        Object.assign(scope.vars, vars);
        return vars;
      }
      case 'fail':
        throw new FlowStepError(String(this.value(step, 'message', scope)), 'E_FLOW_FAILED', step.name);
      case 'function': {
        const fn = this.services.function(spec.function!);
        if (!fn) {
          throw new FlowStepError(
            `${stepLabel(step)}: no function '${spec.function}' is registered`,
            'E_UNKNOWN_FUNCTION',
            step.name,
          );
        }
        const input = this.value(step, 'input', scope) ?? {};
        if (spec.queue !== undefined) {
          // An activity: its own execution on the queue, under the queue's limits; the run waits, suspended.
          const job = this.services.functionJob(spec.function!)!;
          return this.ctx.run(
            job,
            { input: input as Json, run: this.ctx.id, step: step.name, attempt },
            { queue: spec.queue },
          );
        }
        return this.effect(step, input, async (s) =>
          jsonResult(
            await fn(
              input as Json,
              functionContext(this.services, this.callSite(step, step.name, s, attempt)),
            ),
            step,
          ),
        );
      }
      case 'query': {
        const params = (this.value(step, 'params', scope) ?? {}) as Record<string, unknown>;
        return this.effect(step, { query: spec.query, params }, async () => {
          const r = await this.services.query(spec.query!, params);
          const first = r.results[0];
          // The first row's columns at the top (`query.elapsed_minutes`), and every row.
          return jsonResult(
            { ...(first && typeof first === 'object' ? first : {}), rows: r.results, count: r.count },
            step,
          );
        });
      }
      case 'database': {
        const statement: TableStatement = {
          action: spec.action!,
          table: spec.table!,
          ...(spec.datasource === undefined ? {} : { datasource: spec.datasource }),
          ...(step.values.data ? { data: this.value(step, 'data', scope) as Record<string, unknown> } : {}),
          ...(step.values.where
            ? { where: this.value(step, 'where', scope) as Record<string, unknown> }
            : {}),
        };
        return this.effect(step, statement, async () => {
          const rows = await this.services.table(statement);
          // An insert gives the new row (with its id); the others give every row, the first at the top.
          if (statement.action === 'insert') return rows[0] ?? {};
          return { ...(rows[0] ?? {}), rows, count: rows.length };
        });
      }
      case 'http': {
        const headers = this.value(step, 'headers', scope) as Record<string, string> | undefined;
        const body = this.value(step, 'body', scope);
        const req: HttpRequest = {
          method: spec.method ?? 'GET',
          url: String(this.value(step, 'url', scope)),
          ...(headers ? { headers } : {}),
          ...(body === undefined ? {} : { body }),
        };
        // Headers are not recorded as the step's input: they often carry credentials.
        const recorded = { method: req.method, url: req.url, ...(body === undefined ? {} : { body }) };
        return this.effect(step, recorded, (s) => this.services.http(req, s.signal), HTTP_TIMEOUT_MS);
      }
      case 'notification': {
        const message = String(this.value(step, 'message', scope));
        const n = {
          channel: spec.channel!,
          message,
          workflow: this.flow.name,
          run: this.ctx.id,
          step: step.name,
        };
        return this.effect(step, { channel: n.channel, message }, async () => {
          await this.services.notify(n);
          return { channel: n.channel, message };
        });
      }
      case 'conditional':
        return this.list(test(step.condition!, scope) ? (step.ifTrue ?? []) : (step.ifFalse ?? []), scope);
      case 'switch': {
        const v = this.value(step, 'value', scope);
        const key = typeof v === 'string' ? v : JSON.stringify(v);
        return this.list(step.cases?.get(key) ?? step.otherwise ?? [], scope);
      }
      case 'loop':
        return this.loop(step, scope);
      case 'foreach':
        return this.foreach(step, scope);
      case 'parallel':
        return Promise.all((step.branches ?? []).map((b) => this.list(b, scope)));
      case 'wait':
        return this.wait(step, scope);
      case 'assign':
        return this.assign(step, scope);
      case 'emit': {
        const data = this.value(step, 'data', scope) ?? {};
        return this.effect(step, { event: spec.event, data }, async (s) => ({
          event: spec.event,
          started: await this.services.emit(spec.event!, data, s.idempotencyKey),
        }));
      }
      case 'subflow':
        return this.subflow(step, scope);
    }
  }

  /**
   * Repeats the actions while the condition holds, at most max_iterations times, sleeping
   * interval_seconds between iterations. The condition is tested before each iteration and once more
   * an interval after the last; still true then, the step fails with E_TIMEOUT (what `on_error:
   * timeout` handles). Without a condition the actions run max_iterations times.
   */
  private async loop(step: CompiledStep, scope: Scope): Promise<unknown> {
    const max = step.spec.max_iterations!;
    const interval = (step.spec.interval_seconds ?? 0) * 1000;
    let last: unknown = {};
    for (let i = 0; ; i++) {
      if (i >= max && step.condition === undefined) return { iterations: i, last };
      if (i > 0 && interval > 0) {
        await this.ctx.sleep(interval);
        scope.now = this.ctx.now().getTime();
      }
      if (step.condition !== undefined && !test(step.condition, scope)) return { iterations: i, last };
      if (i >= max) {
        throw new FlowStepError(
          `${stepLabel(step)}: its condition still held after max_iterations (${max})`,
          'E_TIMEOUT',
          step.name,
        );
      }
      last = await this.list(step.actions ?? [], scope);
    }
  }

  /** Runs the steps for each item, at most `concurrency` items at once; the outputs in item order. */
  private async foreach(step: CompiledStep, scope: Scope): Promise<unknown[]> {
    const items = this.value(step, 'items', scope);
    if (!Array.isArray(items)) {
      throw new FlowStepError(
        `${stepLabel(step)}: foreach items gave ${kindOf(items)}, not a list`,
        'E_INPUT_INVALID',
        step.name,
      );
    }
    const out = new Array<unknown>(items.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        out[i] = await this.list(step.steps ?? [], itemScope(scope, items[i], i));
      }
    };
    const lanes = Math.min(step.spec.concurrency ?? 1, items.length);
    await Promise.all(Array.from({ length: lanes }, lane));
    return out;
  }

  private async wait(step: CompiledStep, scope: Scope): Promise<unknown> {
    const spec = step.spec;
    if (spec.duration !== undefined) {
      await this.ctx.sleep(durationMs(spec.duration, `${step.name}: duration`));
      return {};
    }
    if (spec.until !== undefined) {
      const v = this.value(step, 'until', scope);
      const at = typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v) : undefined;
      if (!at || Number.isNaN(at.getTime())) {
        throw new FlowStepError(
          `${stepLabel(step)}: until gave ${JSON.stringify(v)}, not a time (ISO text or ms since the epoch)`,
          'E_INPUT_INVALID',
          step.name,
        );
      }
      await this.ctx.sleepUntil(at);
      return { until: at.toISOString() };
    }
    const timeout = this.timeoutOf(step);
    if (spec.signal !== undefined) {
      const payload = await this.ctx.waitForSignal(spec.signal, timeout === undefined ? {} : { timeout });
      if (payload === null) {
        throw new FlowStepError(
          `${stepLabel(step)}: no signal '${spec.signal}' came within ${spec.timeout}`,
          'E_TIMEOUT',
          step.name,
        );
      }
      return payload;
    }
    // The prompt (and the approvers) are templates: `Ship ${input.version}?`.
    const approval = (this.value(step, 'approval', scope) ?? {}) as ApprovalSpec;
    return awaitApproval(this.ctx, step.name, stepLabel(step), approval, timeout, step.spec.timeout);
  }

  /**
   * Sends the task through the router, then waits (durably, no memory held) for the signal its
   * workflow sends when it ends. A task that fails or is cancelled fails the step; no end within the
   * step's timeout fails it with E_TIMEOUT.
   */
  private async assign(step: CompiledStep, scope: Scope): Promise<unknown> {
    const task = this.value(step, 'task', scope);
    if (task === null || typeof task !== 'object' || Array.isArray(task)) {
      throw new FlowStepError(
        `${stepLabel(step)}: task gave ${kindOf(task)}, not an object`,
        'E_INPUT_INVALID',
        step.name,
      );
    }
    const spec = { ...(task as Record<string, unknown>), notify_workflow: this.ctx.id };
    const sent = await this.effect(step, spec, (s) => this.services.assign(spec, s.idempotencyKey));
    const timeout = this.timeoutOf(step);
    const outcome = await this.ctx.waitForSignal<{ status: string; error: string | null }>(
      `task:${sent.task}`,
      timeout === undefined ? {} : { timeout },
    );
    if (outcome === null) {
      throw new FlowStepError(
        `${stepLabel(step)}: task ${sent.task} did not end within ${step.spec.timeout}`,
        'E_TIMEOUT',
        step.name,
      );
    }
    if (outcome.status !== 'completed') {
      throw new FlowStepError(
        `${stepLabel(step)}: task ${sent.task} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`,
        outcome.status === 'cancelled' ? 'E_CANCELLED' : 'E_JOB_FAILED',
        step.name,
      );
    }
    return outcome;
  }

  private async subflow(step: CompiledStep, scope: Scope): Promise<unknown> {
    const name = step.spec.workflow!;
    const def = this.services.workflow(name);
    if (!def) {
      throw new FlowStepError(
        `${stepLabel(step)}: no workflow '${name}' (YAML or code) is known here`,
        'E_UNKNOWN_WORKFLOW',
        step.name,
      );
    }
    const input = this.value(step, 'input', scope) ?? {};
    // The child's version is pinned by a step of the parent, so a replay starts the same version.
    const childInput = await this.ctx.step(
      `${step.name}.start`,
      () => this.services.childInput(name, input) as Promise<Json>,
      {
        input: input as Json,
      },
    );
    if (step.spec.wait === false) {
      const handle = await this.ctx.startChild(def, childInput);
      return { id: handle.id };
    }
    return this.ctx.runChild(def, childInput);
  }
}

/** A database insert with an id: rollback undoes it by default. */
function isInsert(step: CompiledStep): boolean {
  return step.type === 'database' && step.spec.action === 'insert' && step.id !== undefined;
}
