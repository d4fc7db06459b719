// The message input: Enter sends; a line ending in `\`, or Alt+Enter, goes on to a new line; Up and
// Down walk the messages sent before (this process's, then the session's). Keys the screen itself
// handles (Ctrl+C, Shift+Tab) are left to it.
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';

export interface InputProps {
  /** Shown before the first line. */
  prompt: string;
  /** Messages sent before, oldest first. */
  history: readonly string[];
  /** Whether keys reach the input (not while an approval is asked). */
  active: boolean;
  onSubmit: (text: string) => void;
}

export function Input({ prompt, history, active, onSubmit }: InputProps) {
  const [value, setValue] = useState('');
  // Where Up/Down is in the history: history.length is the line being typed.
  const [back, setBack] = useState<number | null>(null);
  useInput(
    (input, key) => {
      if (key.ctrl || (key.tab && key.shift) || key.escape) return;
      if (key.return) {
        if (key.meta || value.endsWith('\\')) {
          setValue((v) => `${v.endsWith('\\') ? v.slice(0, -1) : v}\n`);
          return;
        }
        const text = value;
        setValue('');
        setBack(null);
        if (text.trim()) onSubmit(text);
        return;
      }
      if (key.upArrow || key.downArrow) {
        if (history.length === 0) return;
        const at = back ?? history.length;
        const next = Math.max(0, Math.min(history.length, at + (key.upArrow ? -1 : 1)));
        setBack(next === history.length ? null : next);
        setValue(next === history.length ? '' : history[next]!);
        return;
      }
      if (key.backspace || key.delete) {
        setValue((v) => v.slice(0, -1));
        return;
      }
      if (key.tab || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown) return;
      // A paste arrives as one input, its newlines as carriage returns.
      setValue((v) => v + input.replace(/\r\n?/g, '\n'));
    },
    { isActive: active },
  );
  const lines = value.split('\n');
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i}>
          <Text color="blue" bold>
            {i === 0 ? prompt : '… '}
          </Text>
          {l}
          {i === lines.length - 1 && active ? <Text inverse> </Text> : null}
        </Text>
      ))}
    </Box>
  );
}
