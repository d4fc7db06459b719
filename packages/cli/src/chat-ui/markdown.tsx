// Markdown as a terminal shows it: headings, lists, quotes, fenced code (framed, with its language),
// and inline `code` and **bold**. Enough for what models write; anything else is shown as written.
import { Box, Text } from 'ink';

export type Block =
  | { kind: 'code'; lang: string; lines: string[] }
  | { kind: 'heading'; text: string }
  | { kind: 'item'; bullet: string; text: string; depth: number }
  | { kind: 'quote'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'blank' };

/** The blocks of a markdown text; an unclosed fence (a stream mid-block) runs to the end. */
export function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  let code: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    const fence = /^\s*```\s*([\w+-]*)/.exec(line);
    if (code) {
      if (fence && line.trim() === '```') {
        out.push({ kind: 'code', ...code });
        code = undefined;
      } else code.lines.push(line);
      continue;
    }
    if (fence) {
      code = { lang: fence[1] ?? '', lines: [] };
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    const quote = /^>\s?(.*)$/.exec(line);
    if (heading) out.push({ kind: 'heading', text: heading[1]! });
    else if (item)
      out.push({
        kind: 'item',
        bullet: /\d/.test(item[2]!) ? item[2]! : '•',
        text: item[3]!,
        depth: Math.floor(item[1]!.length / 2),
      });
    else if (quote) out.push({ kind: 'quote', text: quote[1]! });
    else if (line.trim() === '') out.push({ kind: 'blank' });
    else out.push({ kind: 'text', text: line });
  }
  if (code) out.push({ kind: 'code', ...code });
  return out;
}

/** Inline `code` and **bold** within a line. */
export function Inline({ text }: { text: string }) {
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*)/);
  return (
    <Text>
      {parts.map((p, i) =>
        p.startsWith('`') && p.endsWith('`') && p.length > 1 ? (
          <Text key={i} color="cyan">
            {p.slice(1, -1)}
          </Text>
        ) : p.startsWith('**') && p.endsWith('**') && p.length > 3 ? (
          <Text key={i} bold>
            {p.slice(2, -2)}
          </Text>
        ) : (
          p
        ),
      )}
    </Text>
  );
}

export function Markdown({ text, plain = false }: { text: string; plain?: boolean }) {
  return (
    <Box flexDirection="column">
      {blocks(text).map((b, i) => {
        switch (b.kind) {
          case 'code':
            return (
              <Box
                key={i}
                flexDirection="column"
                borderStyle={plain ? undefined : 'round'}
                borderColor="gray"
                paddingX={plain ? 0 : 1}
              >
                {b.lang ? <Text dimColor>{b.lang}</Text> : null}
                {b.lines.map((l, j) => (
                  <Text key={j} color="yellow">
                    {l || ' '}
                  </Text>
                ))}
              </Box>
            );
          case 'heading':
            return (
              <Text key={i} bold underline>
                {b.text}
              </Text>
            );
          case 'item':
            return (
              <Box key={i} paddingLeft={b.depth * 2}>
                <Text>{`${b.bullet} `}</Text>
                <Inline text={b.text} />
              </Box>
            );
          case 'quote':
            return (
              <Text key={i} dimColor>
                {`│ ${b.text}`}
              </Text>
            );
          case 'blank':
            return <Text key={i}> </Text>;
          default:
            return <Inline key={i} text={b.text} />;
        }
      })}
    </Box>
  );
}
