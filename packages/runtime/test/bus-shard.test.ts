// Key → shard must never change between versions: a different hash would move keys to other
// NATS subjects and break per-key order across an upgrade. FNV-1a 32 reference vectors pin it.
import { describe, expect, it } from "vitest";
import { fnv1a32, shardOf, validTopic } from "@netpulse/runtime/bus/shard";
import { shardFromSubject, shardSubject, streamName } from "@netpulse/runtime/bus/nats/names";

describe("shards", () => {
  it("hashes with FNV-1a 32 over UTF-8", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(shardOf("10.0.0.1|10.0.0.2", 8)).toBe(2);
    expect(shardOf("anything", 1)).toBe(0);
  });

  it("hashes the UTF-8 bytes of non-ASCII keys, not their UTF-16 code units", () => {
    const bytes = (key: string) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193);
      return h >>> 0;
    };
    for (const key of ["café/api|db/pg", "ß", "a\u{1F600}b", "10.0.0.1|ünïcode"]) expect(fnv1a32(key)).toBe(bytes(key));
    expect(fnv1a32("é")).not.toBe(fnv1a32("\u00e9".normalize("NFD")));
  });

  it("maps topics onto JetStream names and back", () => {
    expect(streamName("netpulse.flows.raw")).toBe("netpulse_flows_raw");
    expect(shardFromSubject("netpulse.flows.raw", shardSubject("netpulse.flows.raw", 7))).toBe(7);
  });

  it("accepts dotted topic names only", () => {
    expect(["netpulse.flows.raw", "a", "x-1.y_2"].every(validTopic)).toBe(true);
    expect(["", ".a", "a.", "a..b", "a b", "a.*", "a.>"].some(validTopic)).toBe(false);
  });
});
