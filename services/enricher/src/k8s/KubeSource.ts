// The enricher's informers: the kinds enrichment reads, slimmed to the configured labels, with
// restarts counted in the enricher's metrics; and the MetadataSource layer over them. The
// informers themselves are @netpulse/kube's.
import type { KubeConfig } from "@kubernetes/client-node";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { loadKubeConfig, runInformers as runKubeInformers, type MetaEvent } from "@netpulse/kube";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { ENRICHER_KINDS, MetadataSource } from "../MetadataSource.js";
import { reuse } from "../EnricherMetrics.js";
import { Index } from "../IndexService.js";
import { EnricherConfig } from "../config.js";
import { wallClockMs } from "@netpulse/runtime/clock";

export { ENRICHER_KINDS };

export interface InformerOptions {
  readonly labelKeys: ReadonlyArray<string>;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** One informer per ENRICHER_KINDS, events into `apply`; stops with the scope. */
export const runInformers = (kc: KubeConfig, options: InformerOptions, apply: (event: MetaEvent) => void) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics;
    const restarts = reuse(metrics.registry, "netpulse_enricher_informer_restarts_total", () =>
      metrics.counter("netpulse_enricher_informer_restarts_total", "Informer restarts after an error", ["resource"]),
    );
    return yield* runKubeInformers(
      kc,
      {
        kinds: ENRICHER_KINDS,
        labelKeys: options.labelKeys,
        backoffBaseMs: options.backoffBaseMs,
        backoffMaxMs: options.backoffMaxMs,
        onRestart: (kind) => restarts.inc({ resource: kind }),
      },
      apply,
    );
  });

/** MetadataSource from the cluster: config from EnricherConfig, events into the Index. */
export const KubeSourceLive = Layer.scoped(
  MetadataSource,
  Effect.gen(function* () {
    const config = yield* EnricherConfig;
    const index = yield* Index;
    const kc = yield* loadKubeConfig(config.kubeconfig);
    const { synced } = yield* runInformers(kc, config, (event) => index.apply(event, wallClockMs()));
    return { name: "kubernetes", synced };
  }),
);
