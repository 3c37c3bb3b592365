// What a topic still holds, in broker time, for the messages about a window the topic cannot
// serve: the oldest message is the oldest of each partition's first; the newest is found by
// bisecting on "is there a message at or after t" (one short replay per probe, to the second),
// since the Bus offers replays only. The oldest is asked once per topic replay (is --from before
// it?); the newest only when a window starts before the oldest message or finds nothing.
import * as Effect from "effect/Effect";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import type { BusError, BusShape } from "@netpulse/runtime/bus/Bus";

export interface TopicSpan {
  readonly earliestMs: number;
  readonly latestMs: number;
}

const PRECISION_MS = 1_000;

/** Broker time of the first message at or after `fromMs`, if any. */
export const firstFrom = (bus: BusShape, topic: string, fromMs: number): Effect.Effect<number | undefined, BusError> =>
  bus.replay(topic, { _tag: "Time", fromMs }).pipe(
    Stream.runHead,
    Effect.map((m) => Option.getOrUndefined(Option.map(m, (x) => x.timestampMs))),
  );

/**
 * The oldest message's broker time: the oldest of each partition's first message (a replay over
 * all partitions hands them out in no global time order on Kafka).
 */
export const earliestOf = (bus: BusShape, topic: string) =>
  Effect.gen(function* () {
    const partitions = yield* bus.partitions(topic);
    // the first offset: JetStream sequences start at 1, Kafka offsets at 0 (both clamp to the oldest kept)
    const offset = bus.kind === "nats" ? "1" : "0";
    let earliest: number | undefined;
    for (let partition = 0; partition < partitions; partition++) {
      const head = yield* bus.replay(topic, { _tag: "Offset", partition, offset }).pipe(Stream.runHead);
      if (Option.isSome(head) && (earliest === undefined || head.value.timestampMs < earliest))
        earliest = head.value.timestampMs;
    }
    return earliest;
  });

/** The oldest and newest broker times on the topic, or undefined when it holds nothing. */
export const topicSpan = (bus: BusShape, topic: string, nowMs: number) =>
  Effect.gen(function* () {
    const earliest = yield* earliestOf(bus, topic);
    if (earliest === undefined) return undefined;
    // bisect on "a message at or after t": one at or after lo, none at or after hi
    let lo = earliest;
    let hi = Math.max(nowMs, earliest) + 60_000;
    if ((yield* firstFrom(bus, topic, hi)) !== undefined) hi = Number.MAX_SAFE_INTEGER; // clock skew
    while (hi - lo > PRECISION_MS) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if ((yield* firstFrom(bus, topic, mid)) === undefined) hi = mid;
      else lo = mid;
    }
    // what is left is under a second of messages
    const latest = yield* bus
      .replay(topic, { _tag: "Time", fromMs: lo })
      .pipe(Stream.runFold(earliest, (max, m) => (m.timestampMs > max ? m.timestampMs : max)));
    return { earliestMs: earliest, latestMs: latest };
  });

export const isoTime = (ms: number): string => new Date(ms).toISOString();

export const describeSpan = (topic: string, span: TopicSpan | undefined): string =>
  span === undefined
    ? `${topic} holds no messages`
    : `${topic} holds ${isoTime(span.earliestMs)} .. ${isoTime(span.latestMs)}`;
