// Public surface of the detector service (used by the CLI: replay, backtest, rules, anomalies).
export { DetectorEngine, type EngineContext, type EngineInput, type EngineStats } from "./engine/Engine.js";
export {
  detectMessage,
  detectTransform,
  publishedAnomalies,
  TICK_TOPIC,
  tickMessage,
  type DetectHooks,
} from "./detectTransform.js";
export { flowVerdict, denial, type Denial } from "./engine/policyFindings.js";
export { pairKeyOf, endName } from "./engine/pairKey.js";
export { DetectorConfig, detectorConfig, type DetectorConfigShape } from "./config.js";
export { runDetector, loadRulesFile, DetectorStartError, STAGE, TOPICS } from "./DetectorService.js";
export { newestRules, rulesHistory, publishRules, followRules, rulesOf } from "./live/RulesFeed.js";
export { policiesFromManifests, PolicyManifestError } from "./live/policies.js";
export {
  defaultRules,
  parseRules,
  encodeRules,
  decodeRules,
  rulesDocument,
  RulesError,
  withVersion,
  type RuleSet,
} from "./rules/index.js";
