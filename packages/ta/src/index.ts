/**
 * @baton/ta: technical-analysis kernels with TA-Lib parity, streaming forms with
 * snapshot/restore, a metadata registry, and the expression language.
 */
export * from './errors.js';
export type { ComputeOptions, Indicator, IndicatorMeta, ParamSpec, InputName } from './indicator.js';
export {
  getIndicator,
  listIndicators,
  registerIndicator,
  unregisterIndicator,
  registryToJSON,
  suggestName,
  type IndicatorJSON,
} from './registry.js';
export {
  createStream,
  IndicatorStream,
  streamAll,
  type BarInput,
  type StreamValues,
  type StreamSnapshot,
} from './stream.js';
export type { Machine } from './machine.js';
export {
  defineIndicator,
  resolveParams,
  hasMachine,
  type BatonIndicator,
  type IndicatorDef,
  type Params,
} from './define.js';
export type { JsonValue } from './state.js';
export * from './kernels.js';
export * from './expr/index.js';
