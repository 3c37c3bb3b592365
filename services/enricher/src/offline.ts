// The enricher's own transform for offline use (`netpulse enrich`, `netpulse replay` of raw
// flows): an index loaded once from static manifests, and one output batch per input batch
// (a single partition keeps the input's record order).
import * as Effect from "effect/Effect";
import { nowMs } from "@netpulse/runtime/clock";
import { runManifestSource } from "@netpulse/kube";
import { EnricherConfig, type EnricherConfigShape } from "./config.js";
import { BatchEnricher } from "./enrich/BatchEnricher.js";
import { enrichTransform } from "./enrich/enrichTransform.js";
import { makeIndex } from "./IndexService.js";

export interface OfflineEnricherOptions {
  readonly manifests: ReadonlyArray<string>;
  readonly labelKeys?: EnricherConfigShape["labelKeys"];
  readonly cidrs?: EnricherConfigShape["cidrs"];
}

export const offlineEnricher = (o: OfflineEnricherOptions) =>
  Effect.gen(function* () {
    const config = EnricherConfig.make({
      ...(o.labelKeys === undefined ? {} : { labelKeys: o.labelKeys }),
      ...(o.cidrs === undefined ? {} : { cidrs: o.cidrs }),
    });
    const index = makeIndex(config);
    const now = yield* nowMs;
    yield* Effect.scoped(
      runManifestSource({ files: [...o.manifests], labelKeys: config.labelKeys, watch: false }, (e) =>
        index.apply(e, now),
      ),
    );
    return enrichTransform(new BatchEnricher(index, "enrich/offline", 1));
  });
