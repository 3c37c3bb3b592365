// The enricher stage, top to bottom: wait for the metadata source's first full sync, report
// ready, then consume raw flow batches (group "enricher"), enrich, publish to the enriched topic
// under the same key and ack only after the publish; a batch that can't be decoded goes to the
// DLQ with its reason and the stream goes on; a failed publish is retried before anything is
// acked. Index sweeping and size gauges run alongside.
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Ref from "effect/Ref";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import { Bus, type Delivery, type OutgoingMessage } from "@netpulse/runtime/bus/Bus";
import { deadLetter } from "@netpulse/runtime/bus/deadLetter";
import { serveHttpEndpoints } from "@netpulse/runtime/observability/HttpEndpoints";
import { Topics } from "@netpulse/runtime/topics";
import { EnricherConfig } from "./config.js";
import { BatchEnricher } from "./enrich/BatchEnricher.js";
import { LOOKUP_SAMPLE_EVERY, makeEnricherMetrics } from "./EnricherMetrics.js";
import { Index } from "./IndexService.js";
import { MetadataSource } from "./MetadataSource.js";

export const STAGE = "enricher";
const MAINTENANCE_EVERY = Duration.seconds(1);
const HOUR_MS = 3_600_000;

/** Input and outputs, created if missing (idempotent; the same specs as capture and sink use). */
export const TOPICS = [
  { topic: Topics.flowsRaw, partitions: 8, retentionMs: 24 * HOUR_MS },
  { topic: Topics.flowsEnriched, partitions: 8, retentionMs: 7 * 24 * HOUR_MS },
  { topic: Topics.dlq, partitions: 1, retentionMs: 30 * 24 * HOUR_MS },
] as const;

/** A failed publish is retried (the input stays unacked meanwhile), never skipped. */
const publishRetry = Schedule.exponential("200 millis").pipe(Schedule.either(Schedule.spaced("10 seconds")));

/** Consume → enrich → publish → ack, until interrupted or the bus fails. */
export const enrichLoop = Effect.gen(function* () {
  const bus = yield* Bus;
  const index = yield* Index;
  const config = yield* EnricherConfig;
  const metrics = yield* makeEnricherMetrics;
  const enricher = new BatchEnricher(index, `${STAGE}/${config.instance}`);
  let batches = 0;
  const publish = (topic: string, messages: ReadonlyArray<OutgoingMessage>) =>
    bus.publish(topic, messages).pipe(
      Effect.tapError((e) => Effect.logWarning(`publish to ${topic} failed, retrying: ${e.message}`)),
      Effect.retry(publishRetry),
    );

  const handle = (d: Delivery) =>
    Effect.gen(function* () {
      const result = enricher.enrich(d.value);
      if (result._tag === "Left") {
        yield* Effect.logWarning(`batch sent to the DLQ: ${result.left.message}`).pipe(
          Effect.annotateLogs({ topic: d.topic, partition: d.partition, offset: d.offset }),
        );
        yield* publish(Topics.dlq, [deadLetter(d, STAGE, result.left.kind, result.left.message)]);
        metrics.dlq(result.left.kind);
      } else {
        const out = result.right;
        metrics.records("in", out.count);
        yield* publish(Topics.flowsEnriched, [{ key: d.key, value: out.value }]);
        metrics.records("out", out.count);
        metrics.countEnds(out.ends);
        if (++batches % LOOKUP_SAMPLE_EVERY === 0 && out.passthrough) metrics.observeLookup(enricher.timeLastLookups());
      }
      yield* d.ack;
    });

  const maintenance = Effect.sync(() => {
    index.sweep(Date.now());
    metrics.updateSizes(index);
  }).pipe(Effect.repeat(Schedule.spaced(MAINTENANCE_EVERY)));
  yield* Effect.forkScoped(maintenance);

  yield* bus
    .consume(Topics.flowsRaw, { group: config.group, maxInFlight: config.maxInFlight })
    .pipe(Stream.runForEach(handle));
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
