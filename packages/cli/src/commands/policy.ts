// `baton policy check '<tool>(<args>)'`: what agent_permissions.yaml decides for one tool call, and
// the rule that decided it.
import { Command } from 'commander';
import { toolCallFromText } from '@baton/ai';
import type { GlobalOptions, Io } from '../context.js';
import { permissionPolicy } from './ai-context.js';
import { loadConfigFor } from './config.js';

export function policyCommand(globals: () => GlobalOptions, io: Io): Command {
  const policy = new Command('policy').description(
    'the permission rules of agent tool calls (agent_permissions.yaml)',
  );
  policy
    .command('check')
    .description('the decision (allow, ask or deny) for one tool call, and the rule that made it')
    .argument(
      '<call>',
      "a tool call: 'run_command(npm test)', 'read_file(src/.env)', 'mcp:github:create_issue'",
    )
    .option('--json', 'print {"decision", "rule"}')
    .option('--env <name>', 'the environment overlay to apply')
    .action(async (text: string, o: { json?: boolean; env?: string }) => {
      const call = toolCallFromText(text);
      const config = await loadConfigFor(globals(), io, o.env);
      const verdict = permissionPolicy(config, process.cwd()).decide(call);
      if (o.json) io.out(JSON.stringify(verdict));
      else io.out(`${verdict.decision}  ${verdict.rule ?? '(no rule matches: ask)'}`);
    });
  return policy;
}
