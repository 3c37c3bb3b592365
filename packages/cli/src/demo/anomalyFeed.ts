// Anomalies for the live screen as they arrive on netpulse.anomalies: the topic read from the
// demo's start time on, again every half second from the newest broker time seen (as
// `netpulse anomalies --follow` does), keeping only the demo's own (its namespaces or its node).
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import type { Anomaly } from "@netpulse/runtime/records";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { NAMESPACES, NODE } from "./cluster.js";

const FOLLOW_EVERY_MS = 500;
const demoNamespaces = new Set(NAMESPACES.map((n) => n.name));

export const isDemoAnomaly = (a: Anomaly): boolean =>
  demoNamespaces.has(a.src.namespace) || demoNamespaces.has(a.dst.namespace) || a.node === NODE;

const decodeAll = (value: Buffer): ReadonlyArray<Anomaly> => {
  const batch = AnomalyCodec.decodeBatch(value);
  if (Either.isRight(batch)) return batch.right.records;
  const one = AnomalyCodec.decode(value);
  return Either.isRight(one) ? [one.right] : [];
};

/** Calls `onAnomaly` for each demo anomaly published since `sinceMs`, until interrupted. */
export const followAnomalies = (sinceMs: number, onAnomaly: (a: Anomaly) => void) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    yield* bus.provision(TopicSpecs.anomalies);
    let fromMs = sinceMs;
    const seen = new Set<string>();
    const readNew = Effect.suspend(() =>
      bus.replay(Topics.anomalies, { _tag: "Time", fromMs }).pipe(
        Stream.runForEach((m) =>
          Effect.sync(() => {
            const id = `${m.partition}/${m.offset}`;
            if (seen.has(id)) return;
            if (m.timestampMs > fromMs) seen.clear();
            seen.add(id);
            fromMs = Math.max(fromMs, m.timestampMs);
            for (const a of decodeAll(m.value)) if (isDemoAnomaly(a)) onAnomaly(a);
          }),
        ),
      ),
    );
    yield* readNew.pipe(Effect.zipRight(Effect.sleep(`${FOLLOW_EVERY_MS} millis`)), Effect.forever);
  });
