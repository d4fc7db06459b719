// One entry of the transcript on screen: a message typed, an answer (markdown), a tool call
// collapsed to one line with its outcome (an edit also shows its diff), or a note.
import { Box, Text } from 'ink';
import { Markdown } from './markdown.js';
import type { Entry } from './transcript.js';

/** Lines of an edit's diff shown at most; the rest is counted. */
const DIFF_LINES = 20;

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** What a call is about, in a few words: its path, its command, its query. */
export function callSubject(tool: string, input: unknown): string {
  const i = (input ?? {}) as Record<string, unknown>;
  if (typeof i.path === 'string') return i.path;
  if (Array.isArray(i.argv)) return i.argv.join(' ');
  if (typeof i.command === 'string') return i.command;
  if (typeof i.pattern === 'string') return i.pattern;
  if (typeof i.query === 'string') return i.query;
  return tool.startsWith('mcp:') ? oneLine(JSON.stringify(input ?? {}), 60) : '';
}

/** The one line a finished call collapses to: what came of it. */
export function resultSummary(tool: string, output: string, error: boolean): string {
  if (error) return oneLine(output, 100);
  const lines = output.split('\n');
  if (tool === 'edit_file' || tool === 'write_file') {
    const added = lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
    const removed = lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
    return `+${added} −${removed}`;
  }
  if (tool === 'read_file') return `${lines.length} lines`;
  return oneLine(lines.find((l) => l.trim() !== '') ?? '(no output)', 100);
}

function Diff({ diff }: { diff: string }) {
  const lines = diff.split('\n').filter((l) => !l.startsWith('---') && !l.startsWith('+++'));
  return (
    <Box flexDirection="column" paddingLeft={2}>
      {lines.slice(0, DIFF_LINES).map((l, i) => (
        <Text
          key={i}
          color={
            l.startsWith('+') ? 'green' : l.startsWith('-') ? 'red' : l.startsWith('@@') ? 'cyan' : undefined
          }
          dimColor={!/^[-+@]/.test(l)}
        >
          {l || ' '}
        </Text>
      ))}
      {lines.length > DIFF_LINES ? <Text dimColor>{`… ${lines.length - DIFF_LINES} more lines`}</Text> : null}
    </Box>
  );
}

export function EntryView({ entry, plain = false }: { entry: Entry; plain?: boolean }) {
  switch (entry.kind) {
    case 'user':
      return (
        <Box marginTop={1}>
          <Text color="blue" bold>
            {'> '}
          </Text>
          <Text>{entry.text}</Text>
        </Box>
      );
    case 'assistant':
      return (
        <Box marginTop={plain ? 0 : 1}>
          <Markdown text={entry.text} plain={plain} />
        </Box>
      );
    case 'note':
      return (
        <Text color={entry.tone === 'error' ? 'red' : entry.tone === 'warn' ? 'yellow' : 'gray'}>
          {entry.text}
        </Text>
      );
    case 'tool': {
      const running = entry.output === undefined;
      const edit = !entry.error && (entry.tool === 'edit_file' || entry.tool === 'write_file');
      return (
        <Box flexDirection="column">
          <Text>
            <Text color={running ? 'yellow' : entry.error ? 'red' : 'green'}>
              {running ? '… ' : entry.error ? '✗ ' : '✓ '}
            </Text>
            <Text bold>{entry.tool}</Text>
            <Text> {callSubject(entry.tool, entry.input)}</Text>
            {running ? null : (
              <Text dimColor>{`  ${resultSummary(entry.tool, entry.output!, entry.error === true)}`}</Text>
            )}
          </Text>
          {edit && !plain && entry.output ? <Diff diff={entry.output} /> : null}
        </Box>
      );
    }
  }
}
