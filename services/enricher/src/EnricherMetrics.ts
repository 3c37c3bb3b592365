// The enricher's own metrics: resolved/unresolved ends by kind, index sizes, sampled lookup
// latency. Counted per batch, never per record.
import * as Effect from "effect/Effect";
import type { Registry } from "prom-client";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import type { EndCounts } from "./enrich/BatchEnricher.js";
import type { MetadataIndex } from "./index/MetadataIndex.js";

/** One batch in LOOKUP_SAMPLE_EVERY has its lookups timed. */
export const LOOKUP_SAMPLE_EVERY = 64;

/** The registry's metric of that name if one was registered already (a restarted loop), else a new one. */
export const reuse = <M>(registry: Registry, name: string, make: () => M): M =>
  (registry.getSingleMetric(name) as M | undefined) ?? make();

export const makeEnricherMetrics = Effect.gen(function* () {
  const m = yield* Metrics;
  const ends = reuse(m.registry, "netpulse_enricher_ends_total", () =>
    m.counter(
      "netpulse_enricher_ends_total",
      "Flow ends by what they resolved to (external/unknown = not a cluster object)",
      ["kind"],
    ),
  );
  const objects = reuse(m.registry, "netpulse_enricher_index_objects", () =>
    m.gauge("netpulse_enricher_index_objects", "Objects in the metadata index by kind (IP = known IP addresses)", [
      "kind",
    ]),
  );
  const lookup = reuse(m.registry, "netpulse_enricher_lookup_seconds", () =>
    m.histogram(
      "netpulse_enricher_lookup_seconds",
      "Time of one IP lookup, sampled batches (mean over the batch)",
      [2.5e-8, 5e-8, 1e-7, 2.5e-7, 5e-7, 1e-6, 5e-6, 2.5e-5],
    ),
  );
  return {
    countEnds: (c: EndCounts) => {
      for (const [kind, n] of Object.entries(c)) if (n > 0) ends.inc({ kind }, n);
    },
    records: (direction: "in" | "out", n: number) => m.records.inc({ stage: "enricher", direction }, n),
    dlq: (reason: string) => m.dlq.inc({ stage: "enricher", reason }),
    observeLookup: (seconds: number) => lookup.observe(seconds),
    updateSizes: (index: MetadataIndex) => {
      for (const [kind, n] of Object.entries(index.sizes())) objects.set({ kind }, n);
    },
  };
});

export type EnricherMetrics = Effect.Effect.Success<typeof makeEnricherMetrics>;
