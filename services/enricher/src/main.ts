// Entry point of the enricher service (Deployment, N replicas in one consumer group): config,
// bus, metrics, logger, the metadata index and its source (informers, or static manifests when
// NETPULSE_MANIFESTS is set) around runEnricher; SIGTERM/SIGINT stop it cleanly.
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { runMain } from "@netpulse/runtime/runMain";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { EnricherConfig } from "./config.js";
import { runEnricher } from "./EnricherService.js";
import { Index } from "./IndexService.js";
import type { KubeConfigError } from "@netpulse/kube";
import { KubeSourceLive } from "./k8s/KubeSource.js";
import type { MetadataSource } from "./MetadataSource.js";
import { ManifestSourceLive } from "./manifests/ManifestSource.js";
import type { ManifestError } from "@netpulse/kube";

type SourceLayer = Layer.Layer<MetadataSource, ManifestError | KubeConfigError, Metrics | Index | EnricherConfig>;
const SourceLive = Layer.unwrapEffect(
  Effect.map(EnricherConfig, (c): SourceLayer => (c.manifests.length > 0 ? ManifestSourceLive : KubeSourceLive)),
);

const ServiceLive = Layer.mergeAll(SourceLive, BusLive).pipe(
  Layer.provideMerge(Index.layer),
  Layer.provideMerge(Layer.mergeAll(EnricherConfig.layer, Metrics.layer)),
);

runMain("enricher", () => runEnricher.pipe(Effect.provide(ServiceLive), Effect.scoped));
