// makeIoYield lets the event loop's other phases (timers, sockets) run during a long run of
// effects that are always ready, as a bus backlog is; without it they wait for the whole run.
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { makeIoYield } from "../src/ioYield.js";

const busy = (ms: number) => {
  const t = performance.now();
  while (performance.now() - t < ms);
};

/** Items done when a 0 ms timer, armed at the start, finally ran. */
const timerRanAfter = async (step: Effect.Effect<void>): Promise<number> => {
  let done = 0;
  let ranAt = -1;
  setTimeout(() => (ranAt = done), 0);
  await Effect.runPromise(
    Effect.forEach(
      Array.from({ length: 60 }, (_, i) => i),
      () =>
        Effect.zipRight(
          step,
          Effect.sync(() => (busy(1), done++)),
        ),
      { discard: true },
    ),
  );
  await new Promise((r) => setTimeout(r, 5));
  return ranAt;
};

describe("makeIoYield", () => {
  it("lets a timer run within a few items of work, where plain effects starve it", async () => {
    expect(await timerRanAfter(Effect.void)).toBe(60);
    const early = await timerRanAfter(makeIoYield(5));
    expect(early).toBeGreaterThanOrEqual(0);
    expect(early).toBeLessThan(20);
  });
});
