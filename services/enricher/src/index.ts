// Public surface of the enricher service (used by the CLI and, for the fake API server's
// objects, by other services' tests). Prefer subpath imports for anything else.
export { EnricherConfig, enricherConfig, type EnricherConfigShape } from "./config.js";
export { BatchEnricher, type EnrichedBatch, type EndCounts } from "./enrich/BatchEnricher.js";
export { enrichFlow, flowStartMs } from "./enrich/enrichFlow.js";
export { MetadataIndex, type IndexOptions } from "./index/MetadataIndex.js";
export { Index, makeIndex } from "./IndexService.js";
export { MetadataSource, type MetadataSourceShape } from "./MetadataSource.js";
export { runInformers, loadKubeConfig, KubeSourceLive, KubeConfigError } from "./k8s/KubeSource.js";
export { runManifestSource, ManifestSourceLive } from "./manifests/ManifestSource.js";
export { loadManifests, parseManifestText, ManifestError } from "./manifests/parseManifests.js";
export { slim, type Slim, type MetaEvent } from "./model/slim.js";
