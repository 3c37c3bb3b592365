// The wall clock, in one place. Stages decide from the records' own event time; the wall clock
// only stamps what is born here (a capture window, a batch envelope, a dead letter) and paces
// live loops. Effect code reads it through Effect's `Clock` service (so tests swap in
// `TestClock`); the few synchronous stamps outside Effect read it here.
import * as Clock from "effect/Clock";
import * as Effect from "effect/Effect";

/** Milliseconds since the epoch. */
export const wallClockMs = (): number => Date.now();

/** Nanoseconds since the epoch, at millisecond resolution (what `Date` can tell). */
export const wallClockNs = (): bigint => BigInt(wallClockMs()) * 1_000_000n;

/** The current time from Effect's Clock service, in ns since the epoch (millisecond resolution). */
export const nowNs: Effect.Effect<bigint> = Effect.map(Clock.currentTimeMillis, (ms) => BigInt(ms) * 1_000_000n);

/** The current time from Effect's Clock service, in ms since the epoch. */
export const nowMs: Effect.Effect<number> = Clock.currentTimeMillis;
