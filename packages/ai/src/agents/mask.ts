// Secrets masked in what Baton stores and shows of a tool call's arguments: values under keys that
// name a secret, and strings shaped like well-known keys and tokens.
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|auth|credential|private[-_]?key/i;
const SECRET_VALUE =
  /\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b/g;

/** `Bearer <token>`, `--password=<x>`, `token: <x>` inside a string. */
const SECRET_AFTER =
  /(\bBearer\s+|--?(?:password|passwd|token|secret|api-?key)[= ]|\b(?:password|token|secret|api_?key)\s*[:=]\s*)[^\s"']+/gi;

export const MASK = '***';

/** A copy of `value` with secrets replaced by `***`. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string')
    return SECRET_KEY.test(key) ? MASK : value.replace(SECRET_VALUE, MASK).replace(SECRET_AFTER, `$1${MASK}`);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}
