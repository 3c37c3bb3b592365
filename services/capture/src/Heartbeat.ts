// The node's heartbeat: conntrack pressure plus the capture's own counters, published every few
// seconds to netpulse.heartbeats (keyed by node). A failed publish is logged and retried next beat;
// the capture itself never waits on it.
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { HeartbeatCodec } from "@netpulse/runtime/codec/codecs";
import type { Heartbeat } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import type { CaptureStats } from "./CaptureStats.js";
import { type ConntrackPaths, hostPaths, readConntrack } from "./Conntrack.js";
import { wallClockNs } from "@netpulse/runtime/clock";

export const makeHeartbeat = (node: string, stats: CaptureStats, paths: ConntrackPaths = hostPaths) =>
  Effect.map(readConntrack(paths), (ct): Heartbeat => ({
    node,
    ts_ns: wallClockNs(),
    conntrack_count: ct.count,
    conntrack_max: ct.max,
    conntrack_insert_failed: ct.insertFailed,
    conntrack_drop: ct.drop,
    flows_tracked: BigInt(stats.flowsTracked),
    records_published: BigInt(stats.published),
    dropped_ringbuf: BigInt(stats.ringbufDrops),
    dropped_queue: BigInt(stats.queueDrops + stats.sinkDroppedRecords),
    sampling: stats.sampling,
  }));

export const heartbeatLoop = (node: string, stats: CaptureStats, everyMs: number) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    let sequence = 0n;
    const beat = Effect.gen(function* () {
      const hb = yield* makeHeartbeat(node, stats);
      sequence += 1n;
      yield* bus.publish(Topics.heartbeats, [
        { key: node, value: HeartbeatCodec.encodeBatch([hb], { producer: node, sequence }) },
      ]);
    }).pipe(
      Effect.catchAll((e) => Effect.logWarning(`heartbeat not published: ${e.message}`)),
      Effect.withSpan("Capture.heartbeat"),
    );
    return yield* Effect.repeat(beat, Schedule.spaced(`${everyMs} millis`));
  });
