// The enricher's transform, the same for the service (raw topic in, enriched topic out) and
// `netpulse enrich` (a JSON-lines file in, JSON lines out): each raw batch becomes one enriched
// batch per partition of the enriched topic, or a rejection with its reason.
import * as Effect from "effect/Effect";
import { perMessage, type StageOutput, type Transform } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import type { BatchEnricher, EnrichedBatch } from "./BatchEnricher.js";

export const enrichTransform = (
  enricher: BatchEnricher,
  /** Called for every batch enriched (metrics). */
  onBatch: (batch: EnrichedBatch) => void = () => undefined,
): Transform<StageOutput> =>
  perMessage((m) =>
    Effect.sync((): StageOutput => {
      const result = enricher.enrich(m.value);
      if (result._tag === "Left")
        return {
          publish: [],
          rejected: [{ message: m, kind: result.left.kind, reason: result.left.message }],
          recordsIn: 0,
          recordsOut: 0,
        };
      const out = result.right;
      onBatch(out);
      return {
        publish: [{ topic: Topics.flowsEnriched, messages: out.messages }],
        rejected: [],
        recordsIn: out.count,
        recordsOut: out.count,
      };
    }),
  );
