// `baton agents run <name>`: one agent run as a durable workflow in this process, approvals asked
// at the terminal (without one, ask is deny unless --approval-timeout says to wait); and
// `baton agents show <run>`: its transcript with tool calls, decisions and cost.
import { Command } from 'commander';
import {
  BatonError,
  Client,
  Worker,
  nearest,
  toMs,
  type HistoryEntry,
  type Store,
  type WorkflowDefinition,
} from '@baton/core';
import {
  AuditLog,
  CODER,
  McpServers,
  type McpServerSettings,
  type AuditEntry,
  UsageLedger,
  defineAgent,
  isAgentSpec,
  type AgentInput,
  type AgentResult,
  type AgentSpec,
} from '@baton/ai';
import { loadUserModules } from '../load-module.js';
import { makeLogger, openStore, withStore, type GlobalOptions, type Io } from '../context.js';
import { agentRuntime } from './ai-context.js';
import { loadConfigFor } from './config.js';
import { parseJsonOption } from './options.js';
import { askAtTerminal } from './approval-prompt.js';

/** Baton's coder, then every agent spec the modules export. */
async function agentSpecs(modules: string[]): Promise<Map<string, AgentSpec>> {
  const specs = new Map<string, AgentSpec>([[CODER.name, CODER]]);
  const mod = await loadUserModules(modules);
  for (const value of Object.values(mod.exports)) if (isAgentSpec(value)) specs.set(value.name, value);
  return specs;
}

function runCommand(globals: () => GlobalOptions, io: Io): Command {
  return new Command('run')
    .description(
      'run an agent (Baton\'s "coder", or one a module exports with agent()) on this project, as a durable workflow',
    )
    .argument('<name>', 'agent name')
    .option('-m, --module <path...>', 'module(s) exporting agent specs')
    .option('-p, --prompt <text>', 'what to do')
    .option('--input <json>', 'the run\'s input as JSON: {"prompt": "..."}')
    .option('--root <dir>', 'the project directory the tools work in', '.')
    .option(
      '--approval-timeout <duration>',
      'how long an ask waits for an answer (default at a terminal: 10m; without one ask is deny unless this is given)',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        name: string,
        o: {
          module?: string[];
          prompt?: string;
          input?: string;
          root: string;
          approvalTimeout?: string;
          json?: boolean;
        },
      ) => {
        const given =
          o.input === undefined
            ? undefined
            : (parseJsonOption(
                o.input,
                '--input',
                '{"prompt": "fix the failing test"}',
              ) as Partial<AgentInput>);
        const prompt = o.prompt ?? given?.prompt;
        if (typeof prompt !== 'string' || prompt.trim() === '')
          throw new BatonError(
            'E_INPUT_INVALID',
            'give the agent something to do: --prompt "…" or --input \'{"prompt": "…"}\'',
          );
        const specs = await agentSpecs(o.module ?? []);
        const spec = specs.get(name);
        if (!spec) {
          const guess = nearest(name, [...specs.keys()]);
          throw new BatonError(
            'E_NOT_FOUND',
            `no agent '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}: the agents are ${[...specs.keys()].join(', ')}`,
          );
        }
        const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
        const timeout = o.approvalTimeout ?? (interactive ? '10m' : undefined);
        const input: AgentInput = {
          prompt,
          ...(timeout === undefined ? {} : { approvalTimeoutMs: toMs(timeout, '--approval-timeout') }),
        };
        const config = await loadConfigFor(globals(), io);
        const store = await openStore(globals(), makeLogger({ logLevel: 'error', ...globals() }));
        let mcp: McpServers | undefined;
        try {
          await store.migrate();
          const runtime = await agentRuntime(store, config, o.root);
          // The configured MCP servers' tools join the agent's, under the same rules.
          mcp = await McpServers.open(
            (config.get('mcp_servers') ?? {}) as Record<string, McpServerSettings>,
            {
              cwd: runtime.sandbox.root,
            },
          );
          const workflow = defineAgent({ ...spec, tools: [...spec.tools, ...mcp.tools] }, runtime);
          const worker = new Worker(store, {
            workflows: [workflow as WorkflowDefinition],
            queues: [workflow.queue],
            pollInterval: 200,
          });
          await worker.start();
          try {
            const client = new Client(store);
            const { id } = await client.start(workflow, input);
            io.err(`${workflow.name} ${id}${timeout === undefined ? ' (no terminal: asks are denied)' : ''}`);
            const stop = () => void client.cancel(id);
            process.once('SIGINT', stop);
            const result = client.result<AgentResult>(id);
            if (interactive)
              await askAtTerminal(
                store,
                id,
                result.catch(() => undefined),
                io,
              );
            const out = await result.finally(() => process.off('SIGINT', stop));
            io.out(o.json ? JSON.stringify({ id, ...out }, null, 2) : out.text);
            if (!o.json)
              io.err(
                `${out.turns} turns, ${out.toolCalls} tool calls, $${out.costUsd.toFixed(4)}${out.stoppedBy === 'answer' ? '' : `; stopped by ${out.stoppedBy}`}  (baton agents show ${id})`,
              );
          } finally {
            await worker.stop({ deadline: '5s' });
          }
        } finally {
          await mcp?.close();
          await store.close();
        }
      },
    );
}

/** One line of a tool result or text, shortened for the transcript. */
const brief = (text: string, lines = 3) => {
  const all = text.split('\n');
  return (
    all.slice(0, lines).join('\n      ') +
    (all.length > lines ? `\n      … (${all.length - lines} more lines)` : '')
  );
};

/** A decision as the transcript shows it: by a rule (which), or by a person (who, and why). */
function decisionText(e: AuditEntry): string {
  if (e.decidedBy === null) return `${e.decision} (${e.rule ?? 'no rule'})`;
  return `${e.decision} by ${e.decidedBy}${e.reason ? `: ${e.reason}` : ''}`;
}

/** The transcript of an agent run: its model turns, tool calls with their decisions and results, and cost. */
export async function transcript(store: Store, id: string): Promise<string> {
  const client = new Client(store);
  const run = await client.describe(id);
  if (run.kind !== 'workflow' || !run.name.startsWith('agent.'))
    throw new BatonError('E_INVALID_OPTION', `${id} is ${run.kind} '${run.name}', not an agent run`);
  const audit = new Map<string, string[]>();
  for (const e of await new AuditLog(store.driver).list({ executionId: id }))
    audit.set(e.toolCallId, [...(audit.get(e.toolCallId) ?? []), decisionText(e)]);
  const calls = await new UsageLedger(store.driver).callsOf(id);
  const cost = calls.reduce((s, c) => s + (c.cost ?? 0), 0);
  const tokens = calls.reduce((s, c) => s + (c.inputTokens ?? 0) + (c.outputTokens ?? 0), 0);
  const lines = [
    `${run.name}  ${id}  ${run.status}  ${calls.length} model calls, ${tokens} tokens, $${cost.toFixed(4)}`,
    '',
    `user: ${(run.input as unknown as AgentInput).prompt}`,
  ];
  const history = run.history as HistoryEntry[];
  const results = new Map(
    history
      .filter((h) => h.name.startsWith('tool:') && h.status === 'completed')
      .map((h) => [h.name, h.output]),
  );
  for (const h of history) {
    if (h.name !== 'ai.generate' || h.status !== 'completed') continue;
    const content = (
      h.output as {
        content: { type: string; text?: string; toolName?: string; input?: string; toolCallId?: string }[];
      }
    ).content;
    for (const part of content) {
      if (part.type === 'text' && part.text) lines.push(`assistant: ${brief(part.text, 20)}`);
      if (part.type !== 'tool-call') continue;
      lines.push(`  → ${part.toolName} ${part.input}`);
      for (const d of audit.get(part.toolCallId!) ?? []) lines.push(`    ${d}`);
      const out = results.get(`tool:${part.toolName}:${part.toolCallId}`) as
        { text?: string; error?: string; interrupted?: boolean } | undefined;
      if (out)
        lines.push(
          `    ← ${out.interrupted ? 'interrupted by a crash (not re-run)' : out.error !== undefined ? `error: ${brief(out.error)}` : brief(out.text ?? '')}`,
        );
    }
  }
  if (run.status === 'completed') {
    const r = run.output as unknown as AgentResult;
    lines.push(
      '',
      `${r.turns} turns, ${r.toolCalls} tool calls; ${r.stoppedBy === 'answer' ? 'answered' : `stopped by ${r.stoppedBy}`}`,
    );
  }
  return lines.join('\n');
}

export function agentsCommand(globals: () => GlobalOptions, io: Io): Command {
  const agents = new Command('agents').description(
    'AI agents: tool loops as durable workflows, under the permission rules',
  );
  agents.addCommand(runCommand(globals, io));
  agents
    .command('show')
    .description('the transcript of an agent run: turns, tool calls, decisions, approvals and cost')
    .argument('<run>', 'execution id')
    .action(async (id: string) => {
      await withStore(globals(), async (store) => io.out(await transcript(store, id)));
    });
  return agents;
}
