// An approval step (`type: wait`, `approval: { prompt, approvers }`): the run publishes the event
// `approval:<step>` and waits, durably, for the signal `approve:<step>`. An answer from someone not
// among the approvers is ignored and the wait goes on; a denial, or no answer in time, fails the step.
import type { WorkflowContext } from '@baton/core';
import { FlowStepError } from './step-error.js';

export interface ApprovalSpec {
  /** The prompt, rendered. */
  readonly prompt?: string;
  readonly approvers?: string[];
}

/**
 * Waits for the approval of step `step` (`label`: the step as errors name it); `timeout` in ms
 * (`written`: the step's own words for it).
 */
export async function awaitApproval(
  ctx: WorkflowContext,
  step: string,
  label: string,
  { prompt, approvers }: ApprovalSpec,
  timeout: number | undefined,
  written: string | number | undefined,
): Promise<{ approved: true; by: string | null; reason: string | null }> {
  await ctx.setEvent(`approval:${step}`, { prompt: prompt ?? null, approvers: approvers ?? null });
  const deadline = timeout === undefined ? undefined : ctx.now().getTime() + timeout;
  for (;;) {
    const left = deadline === undefined ? undefined : Math.max(1, deadline - ctx.now().getTime());
    const answer = await ctx.waitForSignal<{ approved?: unknown; by?: unknown; reason?: unknown }>(
      `approve:${step}`,
      left === undefined ? {} : { timeout: left },
    );
    if (answer === null) {
      throw new FlowStepError(
        `${label}: no approval within ${written}, so it is denied`,
        'E_APPROVAL_DENIED',
        step,
      );
    }
    const by = typeof answer.by === 'string' ? answer.by : null;
    if (approvers && (by === null || !approvers.includes(by))) {
      ctx.log.warn(
        { step, by },
        `approval from ${by ?? 'someone unnamed'} ignored: not among ${approvers.join(', ')}`,
      );
      continue;
    }
    const reason = typeof answer.reason === 'string' ? answer.reason : null;
    if (answer.approved !== true) {
      throw new FlowStepError(
        `${label}: denied by ${by ?? 'someone unnamed'}${reason ? `: ${reason}` : ''}`,
        'E_APPROVAL_DENIED',
        step,
      );
    }
    return { approved: true, by, reason };
  }
}
