// The Kafka consumer's hand-over bound: deliveries enter the stream's queue as chunks (one queue
// offer per chunk, not per message), and the queue never holds more than maxInFlight messages.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_IN_FLIGHT, inFlight } from "@netpulse/runtime/bus/kafka/consume";

describe("Kafka consume in-flight bound", () => {
  it("splits maxInFlight into queue places of chunks that never hold more than it", () => {
    const checked: string[] = [];
    for (const max of [1, 2, 3, 4, 5, 7, 16, 31, DEFAULT_MAX_IN_FLIGHT, 100, 1000]) {
      const { chunk, chunks } = inFlight(max);
      expect(chunk).toBeGreaterThanOrEqual(1);
      expect(chunks).toBeGreaterThanOrEqual(1);
      expect(chunk * chunks).toBeLessThanOrEqual(max);
      // at least half the allowance is used, so the bound does not starve the stream
      expect(chunk * chunks * 2).toBeGreaterThanOrEqual(max);
      checked.push(`${max}=${chunks}x${chunk}`);
    }
    expect(inFlight(DEFAULT_MAX_IN_FLIGHT)).toEqual({ chunk: 16, chunks: 2 });
    // nonsense from a caller still gives a working bound of one message
    expect(inFlight(0)).toEqual({ chunk: 1, chunks: 1 });
    console.log(`in-flight bounds checked: ${checked.join(" ")}`);
  });
});
