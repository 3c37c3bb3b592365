// Public surface of the enricher service, for the CLI. Other services never import it; shared
// Kubernetes access (informers, slim objects, manifests) is @netpulse/kube.
export { EnricherConfig, enricherConfig, type EnricherConfigShape } from "./config.js";
export { BatchEnricher, type EnrichedBatch, type EndCounts } from "./enrich/BatchEnricher.js";
export { enrichFlow, flowStartMs } from "./enrich/enrichFlow.js";
export { parseNamedCidrs, type NamedCidr } from "./index/CidrNames.js";
export { MetadataIndex, type IndexOptions } from "./index/MetadataIndex.js";
export { Index, makeIndex } from "./IndexService.js";
export { MetadataSource, ENRICHER_KINDS, type EnricherKind, type MetadataSourceShape } from "./MetadataSource.js";
export { KubeSourceLive, runInformers } from "./k8s/KubeSource.js";
export { ManifestSourceLive } from "./manifests/ManifestSource.js";
export { offlineEnricher, type OfflineEnricherOptions } from "./offline.js";
export { enrichTransform } from "./enrich/enrichTransform.js";
