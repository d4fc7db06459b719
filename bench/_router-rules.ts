// The rules of the router bench: the fixture's routing_rules.yaml and sla_rules.yaml, with the queue
// limit and the providers' session caps raised to fit the run.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../packages/flows/src/config/load.js';
import type { RoutingRules } from '../packages/flows/src/config/kinds/routing-rules.js';
import type { SlaRules } from '../packages/flows/src/config/kinds/sla-rules.js';

const CONFIG_DIR = fileURLToPath(new URL('../examples/architect/baton', import.meta.url));
const ENV = { ANTHROPIC_API_KEY: 'b', OPENAI_API_KEY: 'b', GEMINI_API_KEY: 'b', ANYTHINGLLM_API_KEY: 'b' };

export async function benchRules(
  tasks = Number(process.argv[3] ?? 50_000),
  sessions = Number(process.argv[4] ?? 1000),
): Promise<{ routing: RoutingRules; sla: SlaRules }> {
  const config = await loadConfig(CONFIG_DIR, { env: ENV });
  const routing = structuredClone(config.get('routing_rules')) as RoutingRules;
  routing.fallback_rules!.find((r) => r.condition === 'no_sessions_available')!.max_queue_size = tasks * 2;
  // the fixture caps claude at 10 working sessions; with 1,000 sessions every provider needs room
  for (const p of routing.supported_providers!) p.max_concurrent_sessions = sessions;
  return { routing, sla: config.get('sla_rules') as SlaRules };
}
