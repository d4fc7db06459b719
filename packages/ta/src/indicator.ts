/**
 * The contract every indicator in @baton/ta fulfils. The registry, the expression
 * language, the CLI and the docs are all driven from this metadata, never from
 * hand-written lists (TA-Lib's abstract interface is the model).
 */

/** One numeric parameter of an indicator, e.g. `period`. */
export interface ParamSpec {
  /** Name used in named arguments, e.g. `period` in `sma(close, period=20)`. */
  readonly name: string;
  /** `int` parameters must be whole numbers. */
  readonly type: 'int' | 'float';
  readonly default: number;
  /** Inclusive bounds. */
  readonly min: number;
  readonly max: number;
  readonly description: string;
  /**
   * True when the parameter is a window length in bars. `compute()` rejects a window
   * below 1 or longer than the input with `E_PERIOD_INVALID`.
   */
  readonly window?: boolean;
}

/** Input series an indicator reads. OHLCV names are read from the dataset implicitly. */
export type InputName = 'open' | 'high' | 'low' | 'close' | 'volume' | 'series' | 'series2' | 'series3';

export interface IndicatorMeta {
  /** Canonical id, laakhay-ta's name: `sma`, `macd`, `rolling_std`, ... */
  readonly id: string;
  readonly aliases: readonly string[];
  readonly group: 'primitive' | 'trend' | 'momentum' | 'volatility' | 'volume' | 'event' | 'pattern';
  readonly description: string;
  /**
   * Inputs in order. `series` means "one caller-chosen series, defaulting to close";
   * `series2` and `series3` are further caller-chosen series (no default), e.g. the
   * upper and lower bounds of `in_channel(x, upper, lower)`;
   * OHLCV names are taken from the dataset's columns.
   */
  readonly inputs: readonly InputName[];
  /** Parameters in TA-Lib's positional order. */
  readonly params: readonly ParamSpec[];
  /** Output names; a single-output indicator has exactly one, `value`. */
  readonly outputs: readonly string[];
}

/** Options of a batch call. */
export interface ComputeOptions {
  /**
   * Caller-owned output buffers, one per output in `outputs` order, each of the inputs' length and
   * sharing no memory with an input or with each other (`E_OUTPUT_INVALID` otherwise). Every
   * element is overwritten, so a buffer can be reused from call to call without clearing it: a
   * caller computing many series allocates nothing per call.
   */
  readonly out?: readonly Float64Array[];
}

/** A batch kernel plus its metadata and streaming form. */
export interface Indicator<P extends Record<string, number> = Record<string, number>> extends IndicatorMeta {
  /** Number of leading NaN outputs for these parameters (TA-Lib's lookback). */
  lookback(params: Partial<P>): number;
  /**
   * Same-length outputs (one Float64Array per output name, in `outputs` order), NaN during warm-up.
   * With `options.out` they are written into the caller's buffers, which are returned.
   */
  compute(inputs: readonly Float64Array[], params: Partial<P>, options?: ComputeOptions): Float64Array[];
}
