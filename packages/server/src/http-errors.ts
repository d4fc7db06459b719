// Errors as the API returns them: `{ error: { code, message, details } }` with a BatonError code and
// the HTTP status that code means. Anything that is not a BatonError is a 500 whose message says
// nothing of the server's internals (the log has them, under the request id).
import { isBatonError, type BatonErrorCode } from '@baton/core';

const STATUS: Partial<Record<BatonErrorCode, number>> = {
  E_INPUT_INVALID: 400,
  E_INVALID_OPTION: 400,
  E_NOT_JSON: 400,
  E_INVALID_CRON: 400,
  E_CONFIG_INVALID: 422,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_NOT_FOUND: 404,
  E_RATE_LIMITED: 429,
  E_UNKNOWN_JOB: 404,
  E_UNKNOWN_WORKFLOW: 404,
  E_INVALID_STATE: 409,
  E_LEASE_EXPIRED: 409,
  E_DATABASE_UNAVAILABLE: 503,
  E_SCHEMA_TOO_NEW: 503,
  E_TIMEOUT: 504,
  E_BUDGET_EXCEEDED: 402,
  E_LLM_REQUEST: 400,
  E_LLM_UNAVAILABLE: 503,
  E_POLICY_DENIED: 403,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The status and body for `err`; `internal` is true when it was not an error the caller caused. */
export function errorReply(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (isBatonError(err)) {
    const status = STATUS[err.code] ?? 500;
    return {
      status,
      body: {
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      },
      internal: status >= 500,
    };
  }
  return {
    status: 500,
    body: {
      error: { code: 'E_INTERNAL', message: 'the server failed on this request; its log has the details' },
    },
    internal: true,
  };
}
