// Environment references in configuration values: `${VAR}`, `${VAR:-default}` (the default may hold
// references of its own: `${GEMINI_API_KEY:-${GOOGLE_API_KEY}}`), and `$${` for a literal `${`.
// As in a POSIX shell, `:-` takes the default when the variable is unset or empty.

export type Env = Readonly<Record<string, string | undefined>>;

/** The outcome of expanding one string. */
export interface Expansion {
  /** The expanded text, or null when a variable without a default is unset. */
  readonly value: string | null;
  /** Every variable the text referred to, in order (those read through defaults too). */
  readonly vars: readonly string[];
  /** Variables that were unset (or empty) with no default to fall back on. */
  readonly unset: readonly string[];
  /** True when the whole text was one reference (`${X:-8080}`), so the result may be typed like a YAML scalar. */
  readonly whole: boolean;
}

/** A malformed reference, with the offset in the text where it starts. */
export class EnvSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when the text holds a reference or an escaped `$${`, i.e. when expansion can change it. */
export function hasReference(text: string): boolean {
  return text.includes('${');
}

/** Expands the references of `text` from `env`. Throws `EnvSyntaxError` on an unterminated or malformed one. */
export function expand(text: string, env: Env): Expansion {
  const vars: string[] = [];

  // Parses from `i` until a `}` closing a default (nested) or the end. Returns the text, where it
  // stopped, and the unset variables it needed (a default's only count when the default is used).
  const parse = (i: number, nested: boolean): { out: string; end: number; unset: string[] } => {
    let out = '';
    const unset: string[] = [];
    while (i < text.length) {
      if (nested && text[i] === '}') return { out, end: i, unset };
      if (text.startsWith('$${', i)) {
        out += '${';
        i += 3;
        continue;
      }
      if (!text.startsWith('${', i)) {
        out += text[i++];
        continue;
      }
      const start = i;
      let j = i + 2;
      while (j < text.length && text[j] !== '}' && !text.startsWith(':-', j)) j++;
      if (j >= text.length) throw new EnvSyntaxError(unterminated(text, start), start);
      const name = text.slice(i + 2, j);
      if (!NAME.test(name)) {
        throw new EnvSyntaxError(
          `'${text.slice(start, j + 1)}' is not a valid reference: a variable name is letters, digits and _, not starting with a digit (write $\${ for a literal \${)`,
          start,
        );
      }
      vars.push(name);
      const v = env[name];
      if (text[j] === '}') {
        if (v === undefined) unset.push(name);
        else out += v;
        i = j + 1;
      } else {
        const fallback = parse(j + 2, true);
        if (fallback.end >= text.length) throw new EnvSyntaxError(unterminated(text, start), start);
        if (v === undefined || v === '') {
          out += fallback.out;
          unset.push(...fallback.unset);
        } else out += v;
        i = fallback.end + 1;
      }
    }
    return { out, end: i, unset };
  };

  const { out, unset } = parse(0, false);
  const whole = text.startsWith('${') && closesAtEnd(text);
  return { value: unset.length ? null : out, vars, unset, whole };
}

function unterminated(text: string, start: number): string {
  return `unterminated reference '${text.slice(start, start + 30)}${text.length - start > 30 ? '…' : ''}': add the closing }`;
}

/** True when the `${` at 0 is closed by the last character (so the text is one reference, not two). */
function closesAtEnd(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('$${', i)) {
      i += 2;
      continue;
    }
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (text[i] === '}' && depth > 0) {
      depth--;
      if (depth === 0 && i < text.length - 1) return false;
    }
  }
  return depth === 0;
}
