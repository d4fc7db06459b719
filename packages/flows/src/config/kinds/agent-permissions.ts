// The `agent_permissions` kind (agent_permissions.yaml): which tool calls an agent may make
// without asking (allow), only after a person approves (ask), or never (deny). The rules are
// parsed here so that a bad one is reported at its file:line:col; @baton/core decides with them.
import { parsePermissionRule, type PermissionDecision } from '@baton/core';
import { z } from 'zod';

const ruleList = (list: PermissionDecision, what: string) =>
  z
    .array(
      z
        .string()
        .min(1)
        .superRefine((rule, ctx) => {
          try {
            parsePermissionRule(rule, list);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
          }
        }),
    )
    .optional()
    .describe(
      `${what}: 'tool' or 'tool(pattern)', e.g. run_command(npm test *), read_file(**/.env), mcp:github:*`,
    );

/**
 * Schema of `agent_permissions.yaml`: permission rules for agents' tool calls. Deny is checked
 * first, then ask, then allow; the first match decides; a call no rule matches is asked about.
 */
export const agentPermissionsSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    allow: ruleList('allow', 'Calls made without asking'),
    ask: ruleList('ask', 'Calls that wait for a person to approve'),
    deny: ruleList('deny', 'Calls never made'),
  })
  .describe('Permission rules for agent tool calls (agent_permissions.yaml)');

export type AgentPermissions = z.output<typeof agentPermissionsSchema>;
