// Public API of @netpulse/policy: parse Kubernetes objects, hold cluster state, evaluate
// NetworkPolicy verdicts with their reasons. Used by `policy check`, the detector and replay.
export * from "./model.js";
export { parseIp, parseCidr, cidrContains, type ParsedIp, type Cidr, type IpKind } from "./ip.js";
export { parsePolicy, type Parsed } from "./parsePolicy.js";
export { parsePod, parseNamespace, namespaceInfo } from "./parseObjects.js";
export type { FieldIssue } from "./raw.js";
export { selectorMatches, describeSelector } from "./selector.js";
export { evaluateDirection, peerMatches, portMatches, type Endpoint } from "./evaluateDirection.js";
export { PolicyEngine, UnknownEndpoint, type EngineOptions, type Evaluation } from "./PolicyEngine.js";
export { loadManifests, formatIssue, type LoadedManifests, type ManifestIssue } from "./manifests.js";
export { engineFromManifests } from "./engineFromManifests.js";
export { parseProbes, parseProbeLine, makeProbe, ProbeError, type ProbeLine } from "./probe.js";
export { verdictRecord, verdictText, endpointText } from "./explain.js";
export { applyWatchEvent, type WatchEvent, type WatchEventType } from "./applyWatchEvent.js";
