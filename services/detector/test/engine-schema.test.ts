// The anomaly schema's evolution (v1 → v2 adds the episode fields with defaults): the codec reads
// v1 batches with the new fields defaulted, round-trips what the engine emits, and a v1 reader that
// knows the v2 writer schema still reads v2 batches (old readers keep working).
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { loadSchemaFile, parseSchema, schemaVersions, type AvroType } from "@netpulse/runtime/codec/avro";
import { makeBatchCodec } from "@netpulse/runtime/codec/BatchCodec";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import type { Anomaly } from "@netpulse/runtime/records";
import { at, beat, Driver, flow } from "./engineFixtures.js";

const registry = (): Record<string, AvroType> => {
  const r: Record<string, AvroType> = {};
  parseSchema(loadSchemaFile("endpoint.v1.avsc"), r);
  return r;
};

const unwrap = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) throw new Error(String(e.left));
  return e.right;
};

/** Open and resolved anomalies of several kinds, straight from the engine. */
const engineAnomalies = (): Anomaly[] => {
  const d = new Driver();
  d.beats(beat("node-a", 0), beat("node-b", 0, { conntrack_count: 65_000n }));
  d.flows(flow({ t: 1, srtt_us: 300_000, retransmits: 9n, syn_retransmits: 1n, node: "node-b" }));
  d.tick(500);
  return d.out;
};

describe("anomaly schema v2", () => {
  it("is the codec's reader schema and keeps v1's record name", () => {
    const versions = schemaVersions("anomaly").map((v) => v.version);
    expect(versions).toEqual([1, 2]);
    expect(AnomalyCodec.name).toBe("netpulse.v1.Anomaly");
  });

  it("decodes a batch a v1 writer wrote, new fields from their defaults", () => {
    const v1 = makeBatchCodec<Anomaly>({ schema: loadSchemaFile("anomaly.v1.avsc"), registry: registry() });
    expect(v1.fingerprint).not.toBe(AnomalyCodec.fingerprint);
    const [a] = engineAnomalies();
    const {
      status: _s,
      count: _c,
      first_seen_ns: _f,
      last_seen_ns: _l,
      pair: _p,
      unit: _u,
      policy_direction: _d,
      ...old
    } = a!;
    const batch = v1.encodeBatch([old], { producer: "old-detector", sequence: 1n });
    const [back] = unwrap(AnomalyCodec.decodeBatch(batch)).records;
    expect(back).toEqual({
      ...old,
      status: "open",
      count: 1,
      first_seen_ns: 0n,
      last_seen_ns: 0n,
      pair: "",
      unit: "",
      policy_direction: "",
    });
  });

  it("round-trips what the engine emits, episode fields included", () => {
    const out = engineAnomalies();
    expect(new Set(out.map((a) => `${a.kind}:${a.status}`))).toEqual(
      new Set([
        "rtt_high:open",
        "rtt_high:resolved",
        "retransmits_high:open",
        "retransmits_high:resolved",
        "syn_retransmits:open",
        "syn_retransmits:resolved",
        "conntrack_pressure:open",
        "conntrack_pressure:resolved",
        "capture_silent:open",
      ]),
    );
    const back = unwrap(AnomalyCodec.decodeBatch(AnomalyCodec.encodeBatch(out, { producer: "p", sequence: 0n })));
    expect(back.records).toEqual(out);
    for (const a of out) expect(unwrap(AnomalyCodec.decode(AnomalyCodec.encode(a)))).toEqual(a);
    expect(out.find((a) => a.kind === "rtt_high" && a.status === "resolved")).toMatchObject({
      count: 1,
      first_seen_ns: at(1),
      last_seen_ns: at(6),
    });
  });

  it("stays readable by a v1 reader that knows the v2 writer schema (the new fields are skipped)", () => {
    const v1Reader = makeBatchCodec<Anomaly>({
      schema: loadSchemaFile("anomaly.v1.avsc"),
      writers: [loadSchemaFile("anomaly.v2.avsc")],
      registry: registry(),
    });
    const out = engineAnomalies();
    const back = unwrap(v1Reader.decodeBatch(AnomalyCodec.encodeBatch(out, { producer: "p", sequence: 0n })));
    expect(back.records.map((a) => [a.id, a.kind, a.observed])).toEqual(out.map((a) => [a.id, a.kind, a.observed]));
    expect(back.records[0]).not.toHaveProperty("status");
  });
});
