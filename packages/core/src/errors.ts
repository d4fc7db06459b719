/**
 * Baton's one error family. Every error carries a stable `code` that callers can
 * branch on; the message says what was wrong, where, and what to do.
 */
export type BatonErrorCode =
  | 'E_CONFIG_INVALID'
  | 'E_DATABASE_URL'
  | 'E_DATABASE_UNAVAILABLE'
  | 'E_SCHEMA_TOO_NEW'
  | 'E_MIGRATION_FAILED'
  | 'E_NOT_JSON'
  | 'E_INPUT_INVALID'
  | 'E_UNKNOWN_JOB'
  | 'E_UNKNOWN_WORKFLOW'
  | 'E_NONDETERMINISM'
  | 'E_DUPLICATE_DEFINITION'
  | 'E_INVALID_OPTION'
  | 'E_INVALID_CRON'
  | 'E_NOT_FOUND'
  | 'E_INVALID_STATE'
  | 'E_TIMEOUT'
  | 'E_CANCELLED'
  | 'E_LEASE_EXPIRED'
  | 'E_NON_RETRYABLE'
  | 'E_WORKER_STOPPED'
  | 'E_JOB_FAILED'
  | 'E_POLICY_DENIED'
  /** A YAML workflow's `fail` step, or a step failure no error handler took. */
  | 'E_FLOW_FAILED'
  /** A YAML workflow names a function no module registered. */
  | 'E_UNKNOWN_FUNCTION'
  /** An approval a workflow waited for was denied, or not given in time. */
  | 'E_APPROVAL_DENIED'
  /** No valid credentials (an HTTP API call without a key or token, or with a revoked one). */
  | 'E_UNAUTHENTICATED'
  /** Valid credentials whose role does not allow the call. */
  | 'E_FORBIDDEN'
  /** Too many calls from one caller (an HTTP API key or address); retry after the time it names. */
  | 'E_RATE_LIMITED'
  /** An LLM call would pass a budget or cost cap (the message names the limit and the spend). */
  | 'E_BUDGET_EXCEEDED'
  /** No LLM provider could serve a call: each one failed, was skipped (and why), or none is configured. */
  | 'E_LLM_UNAVAILABLE'
  /** An LLM provider refused the request itself (a 4xx other than 429): no other provider is tried. */
  | 'E_LLM_REQUEST'
  /** A tool an agent called failed outside the call itself (an MCP server that stopped, for one). */
  | 'E_TOOL_FAILED'
  /** A failure of Baton itself, not of the call (an HTTP API reply hides its details; the log has them). */
  | 'E_INTERNAL';

export class BatonError extends Error {
  readonly code: BatonErrorCode;
  /** Extra structured facts (ids, paths, names) for programs; the message already says them for people. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: BatonErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options?.details;
  }
}

/**
 * Throw this from a job handler to fail the job at once, without further attempts
 * (for example when the input can never succeed).
 */
export class NonRetryableError extends BatonError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('E_NON_RETRYABLE', message, options);
    this.name = 'NonRetryableError';
  }
}

/** True when `err` is a BatonError with the given code. */
export function isBatonError(err: unknown, code?: BatonErrorCode): err is BatonError {
  return err instanceof BatonError && (code === undefined || err.code === code);
}
