// The AI layer as the CLI sets it up from a configuration directory: a provider's missing key named
// by the variable to set; budget alerts on the SLA notifications' log channel at its level and on
// the budget's webhook (else the SLA notifications' one), a failing webhook logged without its URL.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '@baton/flows';
import { describe, expect, it } from 'vitest';
import { aiConfigOf, budgetAlerts } from '../src/commands/ai-context.js';

const ALERT = {
  limit: 'daily_cost_limit' as const,
  period: '2026-12-05',
  spent: 8.5,
  limitValue: 10,
  threshold: 0.8,
};

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-budget-alerts-'));
  mkdirSync(join(dir, 'base'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'base', name), text);
  return dir;
}

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the AI layer from a configuration directory', () => {
  it('log at the SLA log level and post to the budget webhook', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=secret`;
      const dir = configDir({
        'llm_providers.yaml': `providers:\n  openai:\n    model: gpt-4\nbudget:\n  enabled: true\n  alert_webhook: ${url}\n`,
        'sla_rules.yaml': 'notifications:\n  log:\n    level: ERROR\n',
      });
      const { logger, lines } = capture();
      await budgetAlerts(await loadConfig(dir), logger)(ALERT);
      expect(lines).toEqual([
        expect.objectContaining({
          level: 50,
          msg: 'LLM budget: daily_cost_limit at 85% for 2026-12-05 (8.5 of 10)',
        }),
      ]);
      expect(bodies).toEqual([{ type: 'llm_budget', ...ALERT, share: 85 }]);
    } finally {
      server.close();
    }
  });

  it('fall back to the SLA webhook, and log a failed delivery without the URL', async () => {
    const dir = configDir({
      'llm_providers.yaml': 'providers:\n  openai:\n    model: gpt-4\n',
      'sla_rules.yaml': 'notifications:\n  webhook:\n    url: http://127.0.0.1:9/hook?token=secret\n',
    });
    const { logger, lines } = capture();
    await budgetAlerts(await loadConfig(dir), logger)(ALERT);
    expect(lines[0]).toMatchObject({ level: 40, msg: expect.stringMatching(/^LLM budget/) });
    expect(lines[1]).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/LLM budget alert not delivered: the webhook could not be reached/),
    });
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('names the variable a missing API key comes from', async () => {
    const dir = configDir({
      'llm_providers.yaml':
        'providers:\n  claude:\n    model: x\n    api_key: ${BATON_TEST_NO_SUCH_KEY}\n  gemini:\n    model: y\n    api_key: ${BATON_TEST_NO_GEMINI:-${BATON_TEST_NO_GOOGLE}}\n  openai:\n    model: z\n    api_key: set-here\n',
    });
    const ai = aiConfigOf(await loadConfig(dir, { env: {} }));
    expect(ai.apiKeyVariables).toEqual({
      claude: 'BATON_TEST_NO_SUCH_KEY',
      gemini: 'BATON_TEST_NO_GEMINI or BATON_TEST_NO_GOOGLE',
    });
  });
});
