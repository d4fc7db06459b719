// An ask rule's approval: allow once, allow for the session, always (written to the project's
// rules), or deny with a reason the agent is told.
import { useKeyState } from './key-state.js';
import { Box, Text, useInput } from 'ink';
import type { Approval, Remember } from '@baton/ai';

export type ApprovalChoice =
  { approved: true; remember: Remember } | { approved: false; reason: string | null };

const CHOICES: [string, string, ApprovalChoice | null][] = [
  ['1', 'allow once', { approved: true, remember: 'once' }],
  ['2', 'allow for this session', { approved: true, remember: 'session' }],
  ['3', "always (added to the project's rules)", { approved: true, remember: 'always' }],
  ['4', 'deny, with a reason', null],
];

export function ApprovalPrompt({
  approval,
  onAnswer,
}: {
  approval: Approval;
  onAnswer: (choice: ApprovalChoice) => void;
}) {
  // Keys typed right after 'n' must reach the reason, not the choice.
  const [reason, typed, setReason] = useKeyState<string | null>(null);
  useInput((input, key) => {
    const reason = typed.current;
    if (reason !== null) {
      // A fast typist's reason arrives as one chunk ("not now\r"): a return at its end is Enter.
      const enter = key.return || (input.length > 1 && input.endsWith('\r'));
      const full = key.return ? reason : reason + input.replace(/\r$/, '');
      if (enter) onAnswer({ approved: false, reason: full.trim() || null });
      else if (key.backspace || key.delete) setReason(reason.slice(0, -1));
      else if (key.escape || (key.ctrl && input === 'c')) onAnswer({ approved: false, reason: null });
      else if (!key.ctrl && !key.meta) setReason(reason + input);
      return;
    }
    // y/s/a/n as in the line prompt, or the choice's number; Esc and Ctrl+C deny.
    const k = { y: '1', s: '2', a: '3', n: '4' }[input.toLowerCase()] ?? input;
    if (key.escape || (key.ctrl && input === 'c')) return onAnswer({ approved: false, reason: null });
    const choice = CHOICES.find(([n]) => n === k);
    if (!choice) return;
    if (choice[2]) onAnswer(choice[2]);
    else setReason('');
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1} marginTop={1}>
      <Text>
        <Text bold>{approval.tool}</Text> {JSON.stringify(approval.arguments)}
      </Text>
      <Text dimColor>{approval.rule ? `asked by ${approval.rule}` : 'no rule matches: asked'}</Text>
      {reason === null ? (
        CHOICES.map(([n, label]) => <Text key={n}>{`${n}. ${label}`}</Text>)
      ) : (
        <Text>
          reason (the agent sees it): {reason}
          <Text inverse> </Text>
        </Text>
      )}
    </Box>
  );
}
