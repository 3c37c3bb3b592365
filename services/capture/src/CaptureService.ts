// The capture service, wired top to bottom: metrics + health endpoints, topics, the capture
// pipeline batched into RawFlow batches, encoded, then a bounded dropping hand-off to the bus
// publisher (the kernel side is never slowed by the bus), and the heartbeat.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Queue from "effect/Queue";
import * as Ref from "effect/Ref";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import { Bus, type OutgoingMessage } from "@netpulse/runtime/bus/Bus";
import { serveHttpEndpoints } from "@netpulse/runtime/observability/HttpEndpoints";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { makeFlowEncoder } from "./BusSink.js";
import type { CaptureSettings } from "./CaptureConfig.js";
import { capturePipeline } from "./CapturePipeline.js";
import { CaptureStats } from "./CaptureStats.js";
import { exportMetrics } from "./captureMetrics.js";
import { heartbeatLoop } from "./Heartbeat.js";

/** RawFlows per bus batch and the longest a flow waits for its batch. */
export const FLOW_BATCH_SIZE = 2_000;
export const FLOW_BATCH_LINGER = "1 second";
/**
 * Batches waiting for the bus; beyond this, new batches are dropped and counted. They wait
 * encoded (Avro, ~140 B a flow): as RawFlow objects (~1 KB a flow) a full queue took ~130 MiB on
 * top of a working set of 150–190 MiB at 10–20 k flows/s, past the chart's 256 MiB limit
 * (test/faults/capture.test.ts, docs/faults.md).
 */
export const MAX_PENDING_BATCHES = 64;
export const FLOWS_TOPIC = TopicSpecs.flowsRaw;
export const HEARTBEATS_TOPIC = TopicSpecs.heartbeats;

const publishRetry = Schedule.exponential("200 millis").pipe(Schedule.either(Schedule.spaced("10 seconds")));

/** Longest a stopping capture waits for its last batches to reach the bus. */
export const DRAIN_TIMEOUT = "10 seconds";

/** Runs until `stop` completes (then drains: loader → last windows → bus) or the loader fails. */
export const runCapture = (s: CaptureSettings, stop?: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const stats = new CaptureStats();
    const health = yield* serveHttpEndpoints(s.metricsPort);
    yield* exportMetrics(stats);
    yield* bus.provision(FLOWS_TOPIC);
    yield* bus.provision(HEARTBEATS_TOPIC);

    const { encode, send } = yield* makeFlowEncoder(s.pipeline.node);
    // read (and kept by the bus) now, while it is reachable: encoding needs it for every batch
    yield* bus.partitions(Topics.flowsRaw);
    const pending = yield* Queue.dropping<{ readonly messages: OutgoingMessage[]; readonly flows: number }>(
      MAX_PENDING_BATCHES,
    );
    let publishing = 0;
    yield* Stream.fromQueue(pending).pipe(
      Stream.tap(() => Effect.sync(() => void publishing++)),
      Stream.mapEffect((batch) =>
        send(batch.messages).pipe(
          Effect.tapError((e) => Effect.logWarning(`publish failed, retrying: ${e.message}`)),
          Effect.retry(publishRetry),
          Effect.tap(() => Effect.sync(() => void (stats.published += batch.flows))),
          Effect.ensuring(Effect.sync(() => void publishing--)),
        ),
      ),
      Stream.runDrain,
      Effect.forkScoped,
    );
    yield* heartbeatLoop(s.pipeline.node, stats, s.heartbeatMs).pipe(Effect.forkScoped);

    yield* Effect.logInfo("capture started").pipe(
      Effect.annotateLogs({ node: s.pipeline.node, topic: Topics.flowsRaw }),
    );
    // Ready once the loader reported in: its first stats record follows the last attach.
    yield* Effect.sleep("100 millis").pipe(
      Effect.repeat({ until: () => stats.lastStatsNs !== 0n }),
      Effect.andThen(Ref.set(health.ready, true)),
      Effect.forkScoped,
    );
    const pipeline = stop === undefined ? s.pipeline : { ...s.pipeline, loader: { ...s.pipeline.loader, stop } };
    yield* capturePipeline(pipeline, stats).pipe(
      Stream.groupedWithin(FLOW_BATCH_SIZE, FLOW_BATCH_LINGER),
      Stream.mapEffect((batch) =>
        encode(Chunk.toReadonlyArray(batch)).pipe(
          Effect.flatMap((messages) => Queue.offer(pending, { messages, flows: batch.length })),
          // the partition count comes from the bus (read once at start): never stall the kernel side on it
          Effect.catchAll((e) => Effect.as(Effect.logWarning(`batch dropped, not encoded: ${e.message}`), false)),
          Effect.map((accepted) => {
            if (!accepted) stats.sinkDroppedRecords += batch.length;
          }),
        ),
      ),
      Stream.runDrain,
    );
    // The loader stopped: let the publisher hand the last batches to the bus.
    yield* Effect.sleep("50 millis").pipe(
      // size < 0 means the publisher is waiting for work
      Effect.repeat({ until: () => publishing === 0 && Effect.runSync(Queue.size(pending)) <= 0 }),
      Effect.timeout(DRAIN_TIMEOUT),
      Effect.catchTag("TimeoutException", () => Effect.logWarning("stopping with batches still unpublished")),
    );
    yield* Effect.logInfo("capture stopped").pipe(Effect.annotateLogs({ published: stats.published }));
  }).pipe(Effect.annotateLogs({ service: "capture" }));
