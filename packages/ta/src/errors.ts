/**
 * Errors raised by @baton/ta. Part of Baton's error family: every error carries a
 * stable `code` that callers (CLI, expression language, tests) can match on, and a
 * message that says what was wrong, where, and what to do.
 */

/** Stable error codes of @baton/ta. Codes are never renamed; new ones may be added. */
export type TaErrorCode =
  /** A period (or other window length) is below 1 or longer than the input. */
  | 'E_PERIOD_INVALID'
  /** Input series of one call have different lengths. */
  | 'E_LENGTH_MISMATCH'
  /** A parameter is of the wrong type, out of range, or unknown. */
  | 'E_PARAM_INVALID'
  /** The wrong number or kind of input series. */
  | 'E_INPUT_INVALID'
  /** Caller-owned output buffers of the wrong number, type or length, or overlapping an input. */
  | 'E_OUTPUT_INVALID'
  /** No indicator or function is registered under that name. */
  | 'E_UNKNOWN_FUNCTION'
  /** An id or alias is already registered. */
  | 'E_DUPLICATE_INDICATOR'
  /** A streaming snapshot does not belong to this indicator or is malformed. */
  | 'E_SNAPSHOT_INVALID'
  /** Expression language: the source text does not parse. */
  | 'E_PARSE'
  /** Expression language: a value has the wrong type for an operation. */
  | 'E_TYPE'
  /** Expression language: a name is not defined in the evaluation context. */
  | 'E_UNKNOWN_NAME'
  /** Expression language: evaluation failed at run time. */
  | 'E_EVAL';

/** Options accepted by {@link TaError}. */
export interface TaErrorOptions {
  /** Structured context (indicator id, parameter name, offending value, ...). JSON-serializable. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * The one error class of @baton/ta. `code` is stable; `message` is meant for humans.
 *
 * @example
 * ```ts
 * try { sma(new Float64Array(3), { period: 10 }); }
 * catch (e) { if (e instanceof TaError && e.code === 'E_PERIOD_INVALID') ... }
 * ```
 */
export class TaError extends Error {
  /** Stable machine-readable code, e.g. `E_PERIOD_INVALID`. */
  readonly code: TaErrorCode;
  /** Structured context for tooling; may be empty. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: TaErrorCode, message: string, options: TaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** JSON form used by the CLI and HTTP layers: `{ name, code, message, details }`. */
  toJSON(): { name: string; code: TaErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** True when `e` is a {@link TaError}, optionally with the given code. */
export function isTaError(e: unknown, code?: TaErrorCode): e is TaError {
  return e instanceof TaError && (code === undefined || e.code === code);
}
