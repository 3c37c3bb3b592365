// The enricher stage, top to bottom: wait for the metadata source's first full sync, report
// ready, then run the stage (runtime/stage): consume raw flow batches (group "enricher"), enrich
// and re-key them by workload pair (enrichTransform), publish to the enriched topic and ack only
// after the publish; a batch that can't be decoded goes to the DLQ with its reason and the stream
// goes on. Index sweeping and size gauges run alongside.
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Ref from "effect/Ref";
import * as Schedule from "effect/Schedule";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { nowMs } from "@netpulse/runtime/clock";
import { serveHttpEndpoints } from "@netpulse/runtime/observability/HttpEndpoints";
import { busOutput, runLive } from "@netpulse/runtime/stage/runStage";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { EnricherConfig } from "./config.js";
import { BatchEnricher } from "./enrich/BatchEnricher.js";
import { enrichTransform } from "./enrich/enrichTransform.js";
import { LOOKUP_SAMPLE_EVERY, makeEnricherMetrics } from "./EnricherMetrics.js";
import { Index } from "./IndexService.js";
import { MetadataSource } from "./MetadataSource.js";

export const STAGE = "enricher";
const MAINTENANCE_EVERY = Duration.seconds(1);

/** Input and outputs, created if missing (idempotent). */
export const TOPICS = [TopicSpecs.flowsRaw, TopicSpecs.flowsEnriched, TopicSpecs.dlq] as const;

/** Consume → enrich → publish → ack, until interrupted or the bus fails. */
export const enrichLoop = Effect.gen(function* () {
  const bus = yield* Bus;
  const index = yield* Index;
  const config = yield* EnricherConfig;
  const metrics = yield* makeEnricherMetrics;
  const partitions = yield* bus.partitions(Topics.flowsEnriched);
  const enricher = new BatchEnricher(index, `${STAGE}/${config.instance}`, partitions);
  let batches = 0;
  const transform = enrichTransform(enricher, (out) => {
    metrics.countEnds(out.ends);
    if (++batches % LOOKUP_SAMPLE_EVERY === 0 && out.passthrough) metrics.observeLookup(enricher.timeLastLookups());
  });
  const publish = busOutput(STAGE);

  const maintenance = Effect.gen(function* () {
    index.sweep(yield* nowMs);
    metrics.updateSizes(index);
  }).pipe(Effect.repeat(Schedule.spaced(MAINTENANCE_EVERY)));
  yield* Effect.forkScoped(maintenance);

  yield* runLive(Topics.flowsRaw, { group: config.group, maxInFlight: config.maxInFlight }, transform, (out) =>
    Effect.gen(function* () {
      metrics.records("in", out.recordsIn);
      for (const r of out.rejected) metrics.dlq(r.kind);
      yield* publish(out);
      metrics.records("out", out.recordsOut);
    }),
  );
});

/** The whole service: HTTP endpoints, sync, then the loop. */
export const runEnricher = Effect.gen(function* () {
  const config = yield* EnricherConfig;
  const source = yield* MetadataSource;
  const bus = yield* Bus;
  const health = yield* serveHttpEndpoints(config.metricsPort);
  yield* Effect.forEach(TOPICS, (t) => bus.provision(t), { discard: true });
  yield* Effect.logInfo(`waiting for the first full sync of ${source.name}`);
  yield* source.synced;
  yield* Ref.set(health.ready, true);
  yield* Effect.logInfo("metadata synced; enriching");
  yield* enrichLoop;
});
