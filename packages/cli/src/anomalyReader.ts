// Reading the anomaly topic as it grows, for `netpulse anomalies --follow` and the demo's live
// screen: each run of `readNew` replays from the newest broker time seen so far, and messages at
// that same millisecond are told apart by partition and offset, so nothing is shown twice.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import type { BusShape } from "@netpulse/runtime/bus/Bus";
import { decodeRecords } from "@netpulse/runtime/codec/BatchCodec";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import type { Anomaly } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";

/** How often a follower looks for new messages. */
export const FOLLOW_EVERY_MS = 500;

/** An effect that hands `onAnomalies` what was published since the previous run (since `sinceMs` at first). */
export const anomalyReader = (bus: BusShape, sinceMs: number, onAnomalies: (as: ReadonlyArray<Anomaly>) => void) => {
  let fromMs = sinceMs;
  const seen = new Set<string>();
  return Effect.suspend(() =>
    bus.replay(Topics.anomalies, { _tag: "Time", fromMs }).pipe(
      Stream.runForEach((m) =>
        Effect.sync(() => {
          const id = `${m.partition}/${m.offset}`;
          if (seen.has(id)) return;
          if (m.timestampMs > fromMs) seen.clear();
          seen.add(id);
          fromMs = Math.max(fromMs, m.timestampMs);
          onAnomalies(Either.getOrElse(decodeRecords(AnomalyCodec, m.value), () => []));
        }),
      ),
    ),
  );
};

/** `read` now, then every FOLLOW_EVERY_MS until interrupted. */
export const followEvery = <E, R>(read: Effect.Effect<void, E, R>) =>
  read.pipe(Effect.zipRight(Effect.sleep(`${FOLLOW_EVERY_MS} millis`)), Effect.forever);
