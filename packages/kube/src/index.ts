// Public API of @netpulse/kube: Kubernetes access shared by the enricher and the detector —
// informers (list/watch, 410 relist, restart with backoff, paged lists) over a chosen list of
// kinds, slim objects, and static manifests as the same stream of upserts and deletes.
export {
  slim,
  SLIM_KINDS,
  type Slim,
  type SlimKind,
  type SlimOptions,
  type SlimMeta,
  type SlimPod,
  type SlimContainerPort,
  type SlimNode,
  type SlimNamespace,
  type SlimService,
  type SlimEndpointSlice,
  type SlimWorkload,
  type SlimNetworkPolicy,
  type Owner,
  type SliceTarget,
  type MetaEvent,
} from "./slim.js";
export { RESOURCES, resourcesFor, listAll, LIST_PAGE_SIZE, type WatchedResource } from "./resources.js";
export { runInformers, loadKubeConfig, restartSchedule, KubeConfigError, type InformerOptions } from "./Informers.js";
export { runManifestSource, RELOAD_DEBOUNCE, type ManifestSourceOptions } from "./manifests/ManifestSource.js";
export { loadManifests, loadManifestFile, parseManifestText, ManifestError } from "./manifests/loadManifests.js";
export { diffObjects, toObjectSet, type ObjectSet } from "./manifests/diffObjects.js";
export {
  walkManifests,
  type ManifestEntry,
  type ManifestObject,
  type ManifestSyntaxError,
} from "./manifests/walkManifests.js";
