/**
 * What would stop PostgreSQL from storing `s` exactly: a NUL character (text and jsonb refuse it)
 * or a lone UTF-16 surrogate (not Unicode, so it has no UTF-8 form; the driver would silently
 * replace it). Undefined when `s` is fine.
 */
export function textProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return `contains a NUL character (\\u0000) at index ${i}, which PostgreSQL cannot store`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains a lone UTF-16 surrogate at index ${i}, which is not valid Unicode`;
    }
    if (c >= 0xdc00 && c <= 0xdfff)
      return `contains a lone UTF-16 surrogate at index ${i}, which is not valid Unicode`;
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `s` with what PostgreSQL cannot store (see textProblem) replaced by U+FFFD, as a UTF-8 decoder
 * replaces bytes it cannot read: for text recorded as it came, such as a command's output, where
 * refusing it would lose the rest.
 */
export function toStorableText(s: string): string {
  return textProblem(s) === undefined
    ? s
    : s.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}
