// How a step's failure is named and handled: FlowStepError (the code error_handling matches), the
// conversion of engine and template errors into it, durations, and the JSON check of results.
import { BatonError, ChildFailedError, isBatonError, StepFailedError } from '@baton/core';
import type { CompiledStep } from './compile.js';
import { RenderError } from './template.js';

/** A step failed: its code (a BatonError code, or a function's own), its message, and its name. */
export class FlowStepError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly step: string,
  ) {
    super(message);
    this.name = 'FlowStepError';
  }
}

/** A duration in YAML: a number of seconds, or `500ms`, `30s`, `5m`, `2h`, `7d`. */
export function durationMs(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * 1000;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(v) : null;
  if (!m)
    throw new BatonError(
      'E_INPUT_INVALID',
      `${what}: ${JSON.stringify(v)} is not a duration (a number of seconds, or 30s, 5m, 2h)`,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/**
 * A step as run-time errors name it: `step 'deploy' (baton/base/workflows.yaml:12:9)`. `name` is the
 * engine's name of one of its operations (`child.start`) when that is what failed.
 */
export function stepLabel(step: CompiledStep, name = step.name): string {
  return `step '${name}'${step.at === undefined ? '' : ` (${step.at})`}`;
}

/** The error a step's failure is handled as. */
export function asStepError(err: unknown, step: CompiledStep): FlowStepError {
  if (err instanceof FlowStepError) return err;
  // The definition no longer matches the history: no handler may carry on past that.
  if (isBatonError(err) && err.code === 'E_NONDETERMINISM') throw err;
  if (err instanceof StepFailedError) {
    const reason = (err.failure as { message?: unknown } | null)?.message ?? 'unknown error';
    return new FlowStepError(
      `${stepLabel(step, err.step)} failed: ${String(reason)}`,
      err.code ?? 'E_JOB_FAILED',
      step.name,
    );
  }
  if (err instanceof ChildFailedError || err instanceof RenderError || isBatonError(err)) {
    const code = err instanceof ChildFailedError ? 'E_JOB_FAILED' : err.code;
    return new FlowStepError(`${stepLabel(step)}: ${err.message}`, code, step.name);
  }
  throw err;
}

export const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** A step's result as it is recorded: JSON only, or the step fails saying so. */
export function jsonResult(v: unknown, step: CompiledStep): unknown {
  if (v === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(v)) as unknown;
  } catch (err) {
    throw new FlowStepError(`its result is not JSON (${(err as Error).message})`, 'E_NOT_JSON', step.name);
  }
}
