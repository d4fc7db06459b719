// What kind of failure a provider call ended in, decided from the error's status and type, never
// from its text (Aircher matched error messages). Only provider-side failures move a call to the
// next provider; a request the provider refused as wrong (4xx) would fail the same way everywhere.
import { APICallError, JSONParseError, TypeValidationError } from '@ai-sdk/provider';

export type FailureClass =
  /** 429: the provider asks us to slow down (`retryAfterMs` when it said how long). */
  | 'rate_limited'
  /** 5xx. */
  | 'server_error'
  /** No reply within the provider's `timeout`. */
  | 'timeout'
  /** Refused, reset or dropped connections, mid-stream included. */
  | 'connection'
  /** A reply that is not the protocol's JSON. */
  | 'bad_response'
  /**
   * 401, 402, 403, 404: this provider refuses us (a revoked key, an unpaid account, a model it does
   * not have). Another provider may serve the call; retrying this one would not.
   */
  | 'account_error'
  /** Any other 4xx, or an error raised before a request left (a prompt the SDK refuses): the call itself is wrong. */
  | 'request_error'
  /** The caller cancelled. */
  | 'cancelled';

export interface Failure {
  class: FailureClass;
  status?: number;
  retryAfterMs?: number;
  message: string;
}

/** Failures that are the provider's: worth the next provider, and counted by its breaker. */
export function isProviderFault(c: FailureClass): boolean {
  return c !== 'request_error' && c !== 'cancelled';
}

/** Provider faults worth trying again on the same provider. */
export function isRetryable(c: FailureClass): boolean {
  return isProviderFault(c) && c !== 'account_error';
}

/** Classifies an error thrown by a provider call. `timedOut` says whether our own timeout fired. */
export function classifyFailure(err: unknown, timedOut: boolean, callerAborted: boolean): Failure {
  const message = err instanceof Error ? err.message : String(err);
  if (callerAborted) return { class: 'cancelled', message };
  if (timedOut) return { class: 'timeout', message };
  if (APICallError.isInstance(err)) {
    const status = err.statusCode;
    if (status === 429)
      return { class: 'rate_limited', status, retryAfterMs: retryAfterMs(err.responseHeaders), message };
    if (status !== undefined && status >= 500) return { class: 'server_error', status, message };
    if (status === 401 || status === 402 || status === 403 || status === 404)
      return { class: 'account_error', status, message };
    if (status !== undefined && status >= 400) return { class: 'request_error', status, message };
    // A 2xx whose body broke off is a dropped connection; one that could not be read, a bad response.
    if (status !== undefined && !droppedConnection(err.cause))
      return { class: 'bad_response', status, message };
    return { class: 'connection', message };
  }
  if (JSONParseError.isInstance(err) || TypeValidationError.isInstance(err))
    return { class: 'bad_response', message };
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return { class: 'timeout', message };
  if (droppedConnection(err) || (err instanceof TypeError && /fetch failed/.test(err.message)))
    return { class: 'connection', message };
  // Anything else never reached a provider (a prompt the SDK refuses, a bug): not the provider's
  // fault, so no failover, no retry and nothing against its breaker.
  return { class: 'request_error', message };
}

/** `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, in milliseconds. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const SOCKET_CODES = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_CLOSED',
]);

/** Whether an error, or one in its cause chain, is a socket that closed or failed. */
function droppedConnection(cause: unknown): boolean {
  for (let c = cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
    if (c.name === 'TypeError' && c.message === 'terminated') return true;
  }
  return false;
}
