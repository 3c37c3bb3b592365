// Effect resumes ready fibers from the microtask queue, so a stream whose next element is always
// ready (a backlog on the bus) can run for hundreds of milliseconds without the event loop ever
// reaching its I/O phase: sockets stall, request bodies stop uploading, responses sit unread.
// (Measured in the sink: event-loop stalls of 300–575 ms while it decoded a backlog, which made
// ClickHouse wait on the sink.) `makeIoYield` gives an effect that, once `everyMs` have passed
// since the last time it let I/O run, defers to the next event-loop turn (setImmediate); in
// between it costs one clock read.
import * as Effect from "effect/Effect";

export const makeIoYield = (everyMs = 5): Effect.Effect<void> => {
  let last = performance.now();
  const turn = Effect.async<void>((resume) => {
    const h = setImmediate(() => {
      last = performance.now();
      resume(Effect.void);
    });
    return Effect.sync(() => clearImmediate(h));
  });
  return Effect.suspend(() => (performance.now() - last < everyMs ? Effect.void : turn));
};
