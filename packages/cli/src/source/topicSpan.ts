// What a topic still holds, in broker time, for the messages about a window the topic cannot
// serve: the oldest message is the head of a replay from 0; the newest is found by bisecting on
// "is there a message at or after t" (one short replay per probe, to the second), since the Bus
// offers replays only. Asked only when a window starts before the oldest message or finds nothing.
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

/** The oldest message's broker time. */
export const earliestOf = (bus: BusShape, topic: string) => firstFrom(bus, topic, 0);

/** The oldest and newest broker times on the topic, or undefined when it holds nothing. */
export const topicSpan = (bus: BusShape, topic: string, nowMs: number) =>
  Effect.gen(function* () {
    const earliest = yield* earliestOf(bus, topic);
    if (earliest === undefined) return undefined;
    // invariant: a message at or after lo exists, none at or after hi (clock skew: widen hi)
    let lo = earliest;
    let hi = Math.max(nowMs, earliest) + 60_000;
    if ((yield* firstFrom(bus, topic, hi)) !== undefined) hi = Number.MAX_SAFE_INTEGER;
    let newest = earliest;
    while (hi - lo > PRECISION_MS) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const at = yield* firstFrom(bus, topic, mid);
      if (at === undefined) hi = mid;
      else {
        lo = at + 1;
        newest = at;
      }
    }
    const last = yield* bus.replay(topic, { _tag: "Time", fromMs: newest }).pipe(Stream.runLast);
    return {
      earliestMs: earliest,
      latestMs: Option.match(last, { onNone: () => newest, onSome: (m) => m.timestampMs }),
    };
  });

export const isoTime = (ms: number): string => new Date(ms).toISOString();

export const describeSpan = (topic: string, span: TopicSpan | undefined): string =>
  span === undefined
    ? `${topic} holds no messages`
    : `${topic} holds ${isoTime(span.earliestMs)} .. ${isoTime(span.latestMs)}`;
