import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { makeBatchCodec } from "../src/codec/BatchCodec.js";
import { loadSchemaFile, parseSchema, type AvroSchema } from "../src/codec/avro.js";
import { AnomalyCodec, EnrichedFlowCodec, HeartbeatCodec, RawFlowCodec } from "../src/codec/codecs.js";
import { parseEnrichedFlowJson, parseRawFlowJson, toJsonLine } from "../src/codec/json.js";
import { emptyEndpoint, type Anomaly, type EnrichedFlow, type RawFlow } from "../src/records.js";
import { rawFlow as baseFlow } from "../../../test/support/rawFlow.js";

// values chosen to stress precision: beyond 2^53 where a JS number would round
const rawFlow = (over: Partial<RawFlow> = {}): RawFlow =>
  baseFlow({
    flow_id: (1n << 62n) + 12345n,
    start_ns: 1_763_713_496_123_456_789n,
    end_ns: 1_763_713_501_123_456_789n,
    bytes_sent: (1n << 60n) + 1n,
    bytes_received: 2048n,
    ...over,
  });

const unwrap = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) throw new Error(`expected Right, got ${String(e.left)}`);
  return e.right;
};
const errorOf = <A, E>(e: Either.Either<A, E>): E => {
  if (Either.isRight(e)) throw new Error("expected Left");
  return e.left;
};

describe("batch codec", () => {
  it("round-trips raw flows exactly, 64-bit fields included", () => {
    const records = [rawFlow(), rawFlow({ flow_id: 7n, direction: "server", close_reason: "rst_received" })];
    const bytes = RawFlowCodec.encodeBatch(records, { producer: "capture/node-a", sequence: 41n });
    const decoded = unwrap(RawFlowCodec.decodeBatch(bytes));
    expect(decoded.header).toMatchObject({
      schema: "netpulse.v1.RawFlow",
      producer: "capture/node-a",
      sequence: 41n,
      count: 2,
    });
    expect(decoded.records.map((r) => ({ ...r }))).toEqual(records);
  });

  it("round-trips enriched flows, anomalies and heartbeats", () => {
    const enriched: EnrichedFlow = {
      ...rawFlow(),
      src: { ...emptyEndpoint, kind: "pod", pod: "web-1", namespace: "shop", labels: { app: "web" } },
      dst: { ...emptyEndpoint, kind: "external", external_name: "internet" },
    };
    const e = unwrap(
      EnrichedFlowCodec.decodeBatch(EnrichedFlowCodec.encodeBatch([enriched], { producer: "p", sequence: 0n })),
    );
    expect(JSON.parse(toJsonLine(e.records[0]))).toEqual(JSON.parse(toJsonLine(enriched)));
    const anomaly: Anomaly = {
      id: "a1",
      kind: "rtt_high",
      severity: "warning",
      rule_id: "rtt",
      rule_version: 2,
      detected_ns: 1n,
      window_start_ns: 1n,
      window_end_ns: 2n,
      node: "n",
      src_ip: "1.1.1.1",
      dst_ip: "2.2.2.2",
      dst_port: 80,
      src: emptyEndpoint,
      dst: emptyEndpoint,
      threshold: 100_000,
      baseline: null,
      observed: 150_000,
      sample_flow_ids: [(1n << 62n) + 3n],
      cause_hint: "",
      policy_verdict: "",
      policy_name: "",
      policy_rule: "",
      message: "slow",
    };
    const a = unwrap(AnomalyCodec.decode(AnomalyCodec.encode(anomaly)));
    expect(a.sample_flow_ids).toEqual([(1n << 62n) + 3n]);
    expect(a.baseline).toBeNull();
    expect(a.threshold).toBe(100_000);
    const hb = unwrap(
      HeartbeatCodec.decodeBatch(
        HeartbeatCodec.encodeBatch(
          [
            {
              node: "n",
              ts_ns: 5n,
              conntrack_count: -1n,
              conntrack_max: -1n,
              conntrack_insert_failed: -1n,
              conntrack_drop: -1n,
              flows_tracked: 3n,
              records_published: 9n,
              dropped_ringbuf: 0n,
              dropped_queue: 0n,
              sampling: 1,
            },
          ],
          { producer: "p", sequence: 1n },
        ),
      ),
    );
    expect(hb.records[0]?.conntrack_count).toBe(-1n);
  });

  it("keeps the enriched schema's leading fields identical to the raw schema's", () => {
    const raw = RawFlowCodec.encode(rawFlow());
    const src = EnrichedFlowCodec.type
      .toBuffer({ ...rawFlow(), src: emptyEndpoint, dst: emptyEndpoint })
      .subarray(raw.length);
    // an encoded raw flow followed by two encoded endpoints is an encoded enriched flow
    expect(
      Buffer.compare(
        EnrichedFlowCodec.type
          .toBuffer({ ...rawFlow(), src: emptyEndpoint, dst: emptyEndpoint })
          .subarray(0, raw.length),
        raw,
      ),
    ).toBe(0);
    expect(unwrap(EnrichedFlowCodec.decode(Buffer.concat([raw, src]))).flow_id).toBe(rawFlow().flow_id);
  });

  it("reads a v1 writer's batch with a v2 reader that added a defaulted field", () => {
    const v1 = loadSchemaFile("raw-flow.v1.avsc") as { fields: unknown[] };
    const v2 = {
      ...v1,
      fields: [...v1.fields, { name: "tcp_flags", type: "int", default: 0 }],
    } as unknown as AvroSchema;
    const reader = makeBatchCodec<RawFlow & { tcp_flags: number }>({
      schema: v2,
      writers: [v1 as unknown as AvroSchema],
    });
    const bytes = RawFlowCodec.encodeBatch([rawFlow()], { producer: "old", sequence: 0n });
    const decoded = unwrap(reader.decodeBatch(bytes));
    expect(decoded.records[0]?.tcp_flags).toBe(0);
    expect(decoded.records[0]?.flow_id).toBe(rawFlow().flow_id);
    // a reader that does not know the writer's schema refuses instead of misreading
    const stranger = makeBatchCodec<RawFlow>({ schema: v2 });
    expect(errorOf(stranger.decodeBatch(bytes)).kind).toBe("wrong_schema");
  });

  it("gives typed errors for garbage, truncated and wrong-schema bytes", () => {
    const good = RawFlowCodec.encodeBatch([rawFlow(), rawFlow()], { producer: "p", sequence: 0n });
    expect(errorOf(RawFlowCodec.decodeBatch(Buffer.from("definitely not avro at all, no"))).kind).toMatch(
      /garbage|truncated/,
    );
    expect(errorOf(RawFlowCodec.decodeBatch(good.subarray(0, good.length - 7))).kind).toBe("truncated");
    expect(errorOf(RawFlowCodec.decodeBatch(new Uint8Array(0))).kind).toBe("truncated");
    const anomalies = AnomalyCodec.encodeBatch([], { producer: "p", sequence: 0n });
    expect(errorOf(RawFlowCodec.decodeBatch(anomalies))).toMatchObject({ kind: "wrong_schema" });
    for (let i = 0; i < 200; i++) {
      const noise = Buffer.from(good);
      const at = (i * 7919) % noise.length;
      noise[at] = (noise[at] ?? 0) ^ 0xff;
      const r = RawFlowCodec.decodeBatch(noise); // must never throw
      expect(Either.isEither(r)).toBe(true);
    }
  });

  it("refuses a block count the bytes cannot hold, instead of looping on it", () => {
    const batchType = parseSchema(loadSchemaFile("batch.v1.avsc"));
    const longType = parseSchema("long");
    const one = RawFlowCodec.encode(baseFlow());
    const envelope = (records: Buffer) =>
      batchType.toBuffer({
        schema: RawFlowCodec.name,
        schema_fingerprint: RawFlowCodec.fingerprint,
        producer: "p",
        sequence: 0n,
        created_ns: 0n,
        count: 1,
        records,
      });
    // a well-formed one-record array, then the same with a count of 2^30 (avsc would read on)
    const good = envelope(Buffer.concat([longType.toBuffer(1n), one, longType.toBuffer(0n)]));
    expect(Either.isRight(RawFlowCodec.decodeBatch(good))).toBe(true);
    const huge = envelope(Buffer.concat([longType.toBuffer(2n ** 30n), one, longType.toBuffer(0n)]));
    expect(errorOf(RawFlowCodec.decodeBatch(huge))).toMatchObject({
      kind: "garbage",
      message: expect.stringMatching(/array block of 1073741824 items with \d+ bytes left/),
    });
  });

  it("rejects records that are well-formed Avro but semantically invalid", () => {
    const bad = RawFlowCodec.encodeBatch([rawFlow(), rawFlow({ direction: "sideways" })], {
      producer: "p",
      sequence: 0n,
    });
    expect(errorOf(RawFlowCodec.decodeBatch(bad)).message).toMatch(/index 1: direction "sideways"/);
  });
});

describe("JSON lines", () => {
  it("prints unsafe 64-bit values as strings and safe ones as numbers, and reads both back", () => {
    const line = toJsonLine(rawFlow());
    const obj = JSON.parse(line);
    expect(obj.flow_id).toBe(((1n << 62n) + 12345n).toString());
    expect(obj.bytes_received).toBe(2048);
    expect(unwrap(parseRawFlowJson(line, "x:1"))).toEqual(rawFlow());
  });

  it("fills defaults and names the file, line and field on errors", () => {
    const obj = JSON.parse(toJsonLine(rawFlow()));
    delete obj.sampling;
    expect(unwrap(parseRawFlowJson(JSON.stringify(obj), "f:1")).sampling).toBe(1);
    delete obj.dst_port;
    expect(errorOf(parseRawFlowJson(JSON.stringify(obj), "flows.jsonl:3")).message).toBe(
      'flows.jsonl:3: missing field "dst_port"',
    );
    expect(errorOf(parseRawFlowJson("{", "f:9")).message).toMatch(/^f:9: not JSON/);
    const wrong = { ...JSON.parse(toJsonLine(rawFlow())), srtt_us: "fast" };
    expect(errorOf(parseRawFlowJson(JSON.stringify(wrong), "f:2")).message).toMatch(
      /f:2: field "srtt_us" must be a 32-bit integer/,
    );
    const enr = { ...JSON.parse(toJsonLine(rawFlow())), src: { kind: "pod", labels: { app: 1 } }, dst: {} };
    expect(errorOf(parseEnrichedFlowJson(JSON.stringify(enr), "e:1")).message).toMatch(
      /field "src.labels.app" must be a string/,
    );
  });
});

describe("JSON lines with 64-bit values as plain numbers", () => {
  // what Python's json.dumps(time.time_ns()), Go's encoding/json and jq write: no quotes
  const lineWith = (field: string, literal: string): string =>
    toJsonLine({ ...rawFlow(), [field]: "PLACEHOLDER" }).replace('"PLACEHOLDER"', literal);

  it("loads 1761234567890123456 exactly, as a number and as a string", () => {
    expect(unwrap(parseRawFlowJson(lineWith("start_ns", "1761234567890123456"), "f:1")).start_ns).toBe(
      1761234567890123456n,
    );
    expect(unwrap(parseRawFlowJson(lineWith("start_ns", '"1761234567890123456"'), "f:1")).start_ns).toBe(
      1761234567890123456n,
    );
    const all = lineWith("flow_id", String((1n << 63n) - 1n)).replace(/"(\d{16,})"/g, "$1");
    expect(unwrap(parseRawFlowJson(all, "f:1"))).toEqual({ ...rawFlow(), flow_id: (1n << 63n) - 1n });
  });

  it("refuses out-of-range, fractional and exponent values with file:line and field", () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "flow_id",
        "9223372036854775808",
        /^in\.jsonl:7: field "flow_id" 9223372036854775808 does not fit a signed 64-bit/,
      ],
      ["bytes_sent", "-9223372036854775809", /^in\.jsonl:7: field "bytes_sent" -9223372036854775809 does not fit/],
      ["start_ns", "1.5", /^in\.jsonl:7: field "start_ns" must be an integer \(number or decimal string\), got 1\.5$/],
      ["start_ns", "1761234567890123456.5", /^in\.jsonl:7: field "start_ns" must be an integer without exponent/],
      ["end_ns", "1.7612345678901235e18", /^in\.jsonl:7: field "end_ns" must be an integer without exponent/],
    ];
    for (const [field, literal, message] of cases) {
      const e = errorOf(parseRawFlowJson(lineWith(field, literal), "in.jsonl:7"));
      expect(e.message.split("\n")).toHaveLength(1);
      expect(e.message).toMatch(message);
    }
  });
});

describe("bigint long varints", () => {
  it("round-trips the edges of every varint length and of int64", () => {
    const edges: bigint[] = [0n, 1n, -1n, 63n, -64n, 64n, (1n << 63n) - 1n, -(1n << 63n)];
    for (let bits = 6n; bits < 63n; bits += 1n)
      edges.push(1n << bits, (1n << bits) - 1n, -(1n << bits), -(1n << bits) - 1n);
    for (const v of edges) {
      const f = rawFlow({ flow_id: v, start_ns: v, end_ns: v, bytes_sent: v });
      const back = unwrap(RawFlowCodec.decode(RawFlowCodec.encode(f)));
      expect([back.flow_id, back.bytes_sent]).toEqual([v, v]);
    }
    expect(() => RawFlowCodec.encode(rawFlow({ flow_id: 1n << 63n }))).toThrow(/invalid "long"/);
  });
});
