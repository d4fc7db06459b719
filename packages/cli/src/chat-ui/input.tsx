// The message input: Enter sends; a line ending in `\`, or Alt+Enter, goes on to a new line; Up and
// Down walk the messages sent before (this process's, then the session's). Keys the screen itself
// handles (Ctrl+C, Shift+Tab) are left to it.
import { useState } from 'react';
import { useKeyState } from './key-state.js';
import { Box, Text, useInput } from 'ink';

export interface InputProps {
  /** Shown before the first line. */
  prompt: string;
  /** Messages sent before, oldest first. */
  history: readonly string[];
  onSubmit: (text: string) => void;
}

export function Input({ prompt, history, onSubmit }: InputProps) {
  // The text typed so far.
  const [value, typed, setValue] = useKeyState('');
  // Where Up/Down is in the history: history.length is the line being typed.
  const [back, setBack] = useState<number | null>(null);
  useInput((input, key) => {
    if (key.ctrl || (key.tab && key.shift) || key.escape) return;
    if (key.return) {
      if (key.meta || typed.current.endsWith('\\')) {
        setValue((v) => `${v.endsWith('\\') ? v.slice(0, -1) : v}\n`);
        return;
      }
      const text = typed.current;
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
    // Keys typed fast arrive as one chunk ("hi\r"): a carriage return at its end is Enter. Inside a
    // chunk (a paste), carriage returns are new lines.
    const enter = input.length > 1 && input.endsWith('\r');
    const text = (enter ? input.slice(0, -1) : input).replace(/\r\n?/g, '\n');
    if (!enter) return setValue((v) => v + text);
    const message = typed.current + text;
    setValue('');
    setBack(null);
    if (message.trim()) onSubmit(message);
  });
  const lines = value.split('\n');
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i}>
          <Text color="blue" bold>
            {i === 0 ? prompt : '… '}
          </Text>
          {l}
          {i === lines.length - 1 ? <Text inverse> </Text> : null}
        </Text>
      ))}
    </Box>
  );
}
