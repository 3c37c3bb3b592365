// Where the index's objects come from: Kubernetes informers in a cluster, static manifests for
// the local demo and offline tools. Both feed the same MetadataIndex through MetaEvents.
import * as Context from "effect/Context";
import type * as Effect from "effect/Effect";
import type { SlimKind } from "@netpulse/kube";

/** The kinds enrichment reads (informers watch these); owners before the pods that name them. */
export const ENRICHER_KINDS = [
  "Namespace",
  "Node",
  "ReplicaSet",
  "Job",
  "Service",
  "Pod",
  "EndpointSlice",
] as const satisfies ReadonlyArray<SlimKind>;
export type EnricherKind = (typeof ENRICHER_KINDS)[number];

export interface MetadataSourceShape {
  /** Which source this is, for logs ("kubernetes" | "manifests"). */
  readonly name: string;
  /** Completes once the first full list of every resource is in the index. */
  readonly synced: Effect.Effect<void>;
}

export class MetadataSource extends Context.Tag("netpulse/enricher/MetadataSource")<
  MetadataSource,
  MetadataSourceShape
>() {}
