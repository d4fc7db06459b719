// The status line: provider and model, the mode, tokens in and out, the session's cost, how full
// the context window is, and a warning when a budget is near.
import { Box, Text } from 'ink';
import type { ToolMode } from '@baton/ai';
import type { Usage } from './transcript.js';

export interface StatusInfo {
  provider: string;
  model: string;
  /** Tokens the model's context window holds, when known. */
  contextWindow: number | null;
}

const MODE_LABEL: Record<ToolMode, string> = {
  default: 'ask before edits',
  plan: 'plan (read-only)',
  'accept-edits': 'accept edits',
};

export const modeLabel = (m: ToolMode) => MODE_LABEL[m];

/** 12345 → 12.3k. */
export const tokens = (n: number) => (n < 1000 ? String(n) : `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`);

export const dollars = (u: Usage) => `${u.unpriced ? '≥' : ''}$${u.costUsd.toFixed(4)}`;

export function contextShare(u: Usage, window: number | null): number | null {
  return window ? Math.round((100 * u.lastInputTokens) / window) : null;
}

export function StatusLine(props: {
  info: StatusInfo;
  usage: Usage;
  mode: ToolMode;
  busy: boolean;
  warning: string | null;
  narrow: boolean;
}) {
  const { info, usage, mode, busy, warning, narrow } = props;
  const share = contextShare(usage, info.contextWindow);
  const parts = narrow
    ? [mode === 'default' ? null : modeLabel(mode), dollars(usage)]
    : [
        `${info.provider}/${info.model}`,
        modeLabel(mode),
        `${tokens(usage.inputTokens)} in · ${tokens(usage.outputTokens)} out`,
        dollars(usage),
        share === null ? null : `context ${share}%`,
      ];
  return (
    <Box flexDirection="column">
      <Text dimColor>
        {busy ? <Text color="yellow">● </Text> : null}
        {parts.filter(Boolean).join(' · ')}
        {narrow ? null : '  (Shift+Tab: mode · /help)'}
      </Text>
      {warning || (share !== null && share >= 80) ? (
        <Text color="yellow">
          {warning ??
            `the context window is ${share}% full: /compact summarises the conversation, /clear starts anew`}
        </Text>
      ) : null}
    </Box>
  );
}
