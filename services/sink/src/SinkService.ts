// Wiring of the sink service, top to bottom: config → ClickHouse → schema migration → /metrics +
// /healthz → one pipeline per input topic (enriched flows, anomalies, heartbeats).
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Ref from "effect/Ref";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec, HeartbeatCodec } from "@netpulse/runtime/codec/codecs";
import { serveHttpEndpoints } from "@netpulse/runtime/observability/HttpEndpoints";
import { Topics } from "@netpulse/runtime/topics";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import type { SinkSettings } from "./SinkConfig.js";
import { codecInput, flowsInput, runTopic } from "./SinkPipeline.js";
import { SinkWriter } from "./write/SinkWriter.js";

const DAY_MS = 86_400_000;

/** The topics the sink reads, created if missing (idempotent; producers may have made them). */
export const inputTopics = [
  { topic: Topics.flowsEnriched, partitions: 8, retentionMs: 7 * DAY_MS },
  { topic: Topics.anomalies, partitions: 1, retentionMs: 30 * DAY_MS },
  { topic: Topics.heartbeats, partitions: 1, retentionMs: 7 * DAY_MS },
  { topic: Topics.dlq, partitions: 1, retentionMs: 30 * DAY_MS },
] as const;

export const runSink = (s: SinkSettings) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const writer = yield* SinkWriter;
    const health = yield* serveHttpEndpoints(s.httpPort);
    yield* Effect.forEach(inputTopics, (t) => bus.provision(t), { discard: true });
    yield* Effect.logInfo(
      `sink ready: ClickHouse ${writer.schema.server.text} (${writer.schema.server.dialect} DDL), schema v${writer.schema.to}`,
    );
    yield* Ref.set(health.ready, true);
    yield* Effect.all(
      [
        runTopic(Topics.flowsEnriched, flowsInput(writer.encoders), s),
        runTopic(Topics.anomalies, codecInput(AnomalyCodec, writer.encoders.anomalies), s),
        runTopic(Topics.heartbeats, codecInput(HeartbeatCodec, writer.encoders.nodeStats), s),
      ],
      { concurrency: "unbounded", discard: true },
    );
  }).pipe(Effect.annotateLogs({ service: "sink" }));

export const writerLayer = (s: SinkSettings) =>
  SinkWriter.layer({ baseMs: s.retryBaseMs, maxMs: s.retryMaxMs }).pipe(
    Layer.provideMerge(ClickHouse.layerWith(s.clickhouse)),
  );
