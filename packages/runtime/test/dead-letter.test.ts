// A dead letter never outgrows the message it reports, so the broker that took the message takes
// its dead letter (test/faults found a stage stuck retrying a dead letter over NATS max_payload).
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import type { BusMessage } from "../src/bus/Bus.js";
import { CUT_ABOVE, deadLetter } from "../src/bus/deadLetter.js";
import { DeadLetterCodec } from "../src/codec/codecs.js";

const message = (size: number): BusMessage => ({
  topic: "netpulse.flows.raw",
  key: "10.0.0.1|10.0.0.2",
  value: Buffer.alloc(size, 0x5a),
  partition: 3,
  offset: "123456789",
  timestampMs: 0,
});

const letterOf = (m: BusMessage) => deadLetter(m, "enricher", "garbage", "undecodable batch envelope: x", 1n);

describe("deadLetter", () => {
  it("keeps a small original whole", () => {
    const m = message(4096);
    const d = Either.getOrThrow(DeadLetterCodec.decode(letterOf(m).value));
    expect(d.original.equals(m.value)).toBe(true);
    expect(d).toMatchObject({ topic: m.topic, partition: 3, offset: "123456789", stage: "enricher" });
    expect(d.reason).toBe("undecodable batch envelope: x");
  });

  it.each([CUT_ABOVE + 1, 1024 * 1024 - 40, 1024 * 1024, 8 * 1024 * 1024 + 3])(
    "is never larger than an original of %i bytes, whose head it keeps and whose size it names",
    (size) => {
      const m = message(size);
      const out = letterOf(m);
      expect(out.value.length).toBeLessThanOrEqual(size);
      expect(out.key).toBe(m.key);
      const d = Either.getOrThrow(DeadLetterCodec.decode(out.value));
      expect(m.value.subarray(0, d.original.length).equals(d.original)).toBe(true);
      expect(d.original.length).toBeGreaterThan(size - 1024);
      expect(d.reason).toContain(`original of ${size} bytes`);
    },
  );
});
