// The NATS consumer reads the client's buffer a chunk at a time; nothing may be lost or reordered
// when a read stops early (a message not ready yet is carried into the next read).
import { describe, expect, it } from "vitest";
import { chunkReader } from "@netpulse/runtime/bus/nats/consume";

async function* source(): AsyncGenerator<number> {
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) await new Promise((r) => setTimeout(r, 20)); // a gap: the buffer ran dry
    yield i;
  }
}

describe("chunkReader", () => {
  it("returns what is ready, bounded, in order, losing nothing across early stops", async () => {
    const read = chunkReader(source(), 3);
    const chunks: number[][] = [];
    for (let c = await read(); c !== undefined; c = await read()) chunks.push(c);
    expect(chunks.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(3);
    // The gaps end a chunk early instead of waiting for the next message.
    expect(chunks.some((c) => c.at(-1) === 3)).toBe(true);
    expect(chunks.some((c) => c.at(-1) === 6)).toBe(true);
  });
});
