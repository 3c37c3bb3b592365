// The detector's transform, the same for the service and `netpulse replay`: enriched flow
// batches, heartbeat batches and clock ticks go through one DetectorEngine in arrival order;
// each message gives the anomalies it caused as one batch on the anomaly topic (nothing when it
// caused none), or a rejection with its reason. The rules and policies in force are read per
// message, so a rule change applies from the next message on.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { decodeRecords } from "@netpulse/runtime/codec/BatchCodec";
import { AnomalyCodec, EnrichedFlowCodec, HeartbeatCodec } from "@netpulse/runtime/codec/codecs";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import type { Anomaly } from "@netpulse/runtime/records";
import { perMessage, type StageOutput, type Transform } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import type { DetectorEngine, EngineContext, EngineInput } from "./engine/Engine.js";

/**
 * Not a bus topic: the live source's wall-clock tick, a message with no value whose broker
 * timestamp is the time. Sent only while the input is idle, so it never runs ahead of a backlog.
 */
export const TICK_TOPIC = "netpulse.detector.tick";

export const tickMessage = (nowMs: number): BusMessage => ({
  topic: TICK_TOPIC,
  key: "",
  value: Buffer.alloc(0),
  partition: 0,
  offset: "",
  timestampMs: nowMs,
});

const inputOf = (m: BusMessage): Either.Either<EngineInput, CodecError> | undefined => {
  // the message's own time on the bus bounds how far ahead of it a record's time may move the clock
  // (0: unknown)
  const arrivalNs = m.timestampMs > 0 ? BigInt(Math.trunc(m.timestampMs)) * 1_000_000n : 0n;
  switch (m.topic) {
    case Topics.flowsEnriched:
      return Either.map(
        EnrichedFlowCodec.decodeBatch(m.value),
        (b) => ({ _tag: "Flows", flows: b.records, source: `${m.topic}:${m.partition}`, arrivalNs }) as const,
      );
    case Topics.heartbeats:
      return Either.map(
        decodeRecords(HeartbeatCodec, m.value),
        // one input for all heartbeats: a node that went silent must not hold event time back
        (beats) => ({ _tag: "Heartbeats", beats, source: m.topic, arrivalNs }) as const,
      );
    case TICK_TOPIC:
      return Either.right({ _tag: "Tick", nowNs: BigInt(m.timestampMs) * 1_000_000n } as const);
    default:
      return undefined;
  }
};

export interface DetectHooks {
  /** Every anomaly emitted (metrics, the CLI's printer). */
  readonly onAnomalies?: (anomalies: ReadonlyArray<Anomaly>) => void;
}

/**
 * One message through the engine: what the detector would publish for it. The transform below is
 * this per message; a backtest calls it for two engines on the same messages.
 */
export const detectMessage = (
  engine: DetectorEngine,
  context: () => EngineContext,
  producer: string,
  hooks: DetectHooks = {},
): ((m: BusMessage) => StageOutput) => {
  let sequence = 0n;
  return (m) => {
    const input = inputOf(m);
    if (input === undefined) return { publish: [], rejected: [], recordsIn: 0, recordsOut: 0 };
    if (Either.isLeft(input))
      return {
        publish: [],
        rejected: [{ message: m, kind: input.left.kind, reason: input.left.message }],
        recordsIn: 0,
        recordsOut: 0,
      };
    const anomalies = engine.step(input.right, context());
    const recordsIn =
      input.right._tag === "Flows"
        ? input.right.flows.length
        : input.right._tag === "Heartbeats"
          ? input.right.beats.length
          : 0;
    if (anomalies.length === 0) return { publish: [], rejected: [], recordsIn, recordsOut: 0 };
    hooks.onAnomalies?.(anomalies);
    const value = AnomalyCodec.encodeBatch(anomalies, {
      producer,
      sequence: sequence++,
      createdNs: engine.watermarkNs,
    });
    return {
      publish: [{ topic: Topics.anomalies, messages: [{ key: anomalies[0]?.id ?? "", value }] }],
      rejected: [],
      recordsIn,
      recordsOut: anomalies.length,
    };
  };
};

/** The anomalies a detector output carries, decoded from the batches it would publish (as live readers see them). */
export const publishedAnomalies = (out: StageOutput): Anomaly[] => {
  const all: Anomaly[] = [];
  for (const p of out.publish)
    if (p.topic === Topics.anomalies)
      for (const m of p.messages) {
        const b = AnomalyCodec.decodeBatch(m.value);
        if (Either.isRight(b)) all.push(...b.right.records);
      }
  return all;
};

export const detectTransform = (
  engine: DetectorEngine,
  context: () => EngineContext,
  producer: string,
  hooks: DetectHooks = {},
): Transform<StageOutput> => {
  const step = detectMessage(engine, context, producer, hooks);
  return perMessage((m) => Effect.sync(() => step(m)));
};
