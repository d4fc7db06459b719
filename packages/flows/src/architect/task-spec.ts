// The shape of a task as sent through the library or the CLI. The router's own checks (priority
// range, providers, target session) follow in checkTask; this rejects what is not a task at all.
import { BatonError, textProblem } from '@baton/core';
import { z } from 'zod';
import type { TaskSpec } from './model.js';

/** Text PostgreSQL stores unchanged: a NUL or a lone surrogate is refused here, not by the insert. */
const storable = z.string().superRefine((s, ctx) => {
  const problem = textProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const text = storable.min(1, 'must not be empty');
const names = z.array(text);

const taskSpecSchema = z.strictObject({
  type: text.max(200),
  prompt: text.max(1_000_000, 'is longer than 1,000,000 characters'),
  priority: z.number().optional(),
  target_session: text.optional(),
  target_provider: text.optional(),
  preferred_providers: names.optional(),
  fallback_providers: names.optional(),
  allow_fallback: z.boolean().optional(),
  timeout_minutes: z.number().optional(),
  max_retries: z.number().optional(),
  working_dir: text.optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name'), storable)
    .optional(),
  git_branch: text.optional(),
  project: text.optional(),
  notify_workflow: text.max(500).optional(),
});

/** The task, checked: E_INPUT_INVALID naming the field and what is wrong, for anything that is not a task. */
export function checkTaskSpec(input: unknown): TaskSpec {
  const r = taskSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'task'}: ${i.message}`);
  throw new BatonError('E_INPUT_INVALID', `invalid task: ${problems.join('; ')}`, { details: { problems } });
}
