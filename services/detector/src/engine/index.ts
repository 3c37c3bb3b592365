// The detector's pure engine: what the service, replay and backtest import.
export {
  DetectorEngine,
  type EngineInput,
  type EngineContext,
  type EngineOptions,
  type EngineStats,
} from "./Engine.js";
export { pairKeyOf, endName } from "./pairKey.js";
export { anomalyId } from "./anomalyId.js";
