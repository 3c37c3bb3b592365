// Event time over several partitions: the watermark waits for every partition that keeps up, goes
// on without one that lags more than the bound, and is the plain newest time with one input.
import { describe, expect, it } from "vitest";
import { EventClock } from "../src/engine/EventClock.js";

const S = 1_000_000_000n;

describe("EventClock", () => {
  it("with one input, the watermark is the newest time seen", () => {
    const c = new EventClock(120n * S);
    c.begin("only");
    expect(c.see(10n * S)).toBe(10n * S);
    expect(c.see(5n * S)).toBe(10n * S);
    expect(c.see(500n * S)).toBe(500n * S);
  });

  it("a partition read ahead cannot move time past the others", () => {
    const c = new EventClock(120n * S);
    c.begin("p0");
    c.see(10n * S);
    c.begin("p1");
    expect(c.see(12n * S)).toBe(10n * S); // p0 is at 10 s
    expect(c.see(70n * S)).toBe(10n * S);
    c.begin("p0");
    expect(c.see(40n * S)).toBe(40n * S); // p1 is further, p0 decides
    expect(c.see(90n * S)).toBe(70n * S);
  });

  it("an input more than the bound behind the newest time is left out", () => {
    const c = new EventClock(120n * S);
    c.begin("idle");
    c.see(10n * S);
    c.begin("busy");
    expect(c.see(100n * S)).toBe(10n * S);
    // 200 s: the idle partition is 190 s behind, so time is held at most to 200 - 120
    expect(c.see(200n * S)).toBe(80n * S);
    c.begin("busy"); // a new step: the idle input no longer counts
    expect(c.see(210n * S)).toBe(210n * S);
  });
});
