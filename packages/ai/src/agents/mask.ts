// Secrets masked in what Baton stores and shows of a tool call's arguments: values under keys that
// name a secret, strings shaped like well-known keys and tokens, and the values of secret-named
// flags and variables. Only characters a token is made of are masked, so masking cannot hide a
// command substitution or a pipe from the person who approves the call.
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|auth|credential|private[-_]?key/i;
const SECRET_VALUE =
  /\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b/g;

/** What a token is made of. */
const TOKEN = '[A-Za-z0-9._~+/=-]+';
/** `Bearer <token>`, `--password=<token>`, `token: <token>`, `DB_PASSWORD=<token>` inside a string. */
const SECRET_AFTER = new RegExp(
  `(\\bBearer\\s+|--?(?:password|passwd|token|secret|api-?key)[= ]|\\b(?:password|token|secret|api_?key)\\s*[:=]\\s*|\\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=)${TOKEN}`,
  'gi',
);

export const MASK = '***';

/** A copy of `value` with secrets replaced by `***`; everything under a secret-named key is masked. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY.test(key) && value !== null && value !== undefined) return MASK;
  if (typeof value === 'string') return value.replace(SECRET_VALUE, MASK).replace(SECRET_AFTER, `$1${MASK}`);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}
