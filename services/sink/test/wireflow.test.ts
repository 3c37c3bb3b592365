// The Avro→columns transcoder must give the bytes of decoding with the codec and encoding with the
// flows encoder, regrouped as a Native block (nativeOracle.ts); the wire encoder must give that
// for whole messages and for any selection of rows; and both refuse what the codec refuses.
import * as Either from "effect/Either";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { encodeFlows } from "../src/rows/FlowRowBinary.js";
import { parseSchema } from "@netpulse/runtime/codec/avro";
import { avroOf, decimalKey, transcodeBatch, transcodeRecords, type WireFlow } from "../src/rows/WireFlow.js";
import { FLOW_COLUMNS, flowColumns } from "../src/rows/FlowTranscoder.js";
import { nativeBlock } from "../src/rows/NativeBlock.js";
import { makeWireFlowEncoder } from "../src/rows/WireFlowEncoder.js";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { nativeOfRowBinary } from "./nativeOracle.js";
import { corruptions } from "../../../test/support/corrupt.js";
import { makeFlows } from "./fixtures.js";

const longType = parseSchema("long");
const rows = makeFlows(3000).map((r, i) => {
  if (i === 5) return { ...r, cgroup_id: -42n, netns: 2n ** 63n - 1n, flow_id: 2n ** 62n + 12345n };
  if (i === 6)
    return {
      ...r,
      src: { ...r.src, labels: { "app.kubernetes.io/name": "ünïcödé ✓", empty: "" } },
      comm: "nginx: wörker",
    };
  if (i === 7) return { ...r, dst: { ...r.dst, labels: {} }, srtt_us: -1, pid: 2 ** 31 - 1 };
  return r;
});

/** What the server should get for these records: the codec path's RowBinary, as Native. */
const expectedNative = (records: ReadonlyArray<EnrichedFlow>) =>
  nativeOfRowBinary(FLOW_COLUMNS, encodeFlows(records, "legacy").body, records.length);

/** Byte equality without vitest's diff of two 1 MB buffers (seconds each). */
const same = (got: Buffer, want: Buffer) => {
  expect(got.length).toBe(want.length);
  expect(got.equals(want)).toBe(true);
};

const message = (records: ReadonlyArray<EnrichedFlow>, sequence = 1n, d: Dialect = "legacy"): WireFlow[] =>
  Either.getOrThrow(transcodeBatch(EnrichedFlowCodec.encodeBatch(records, { producer: "t", sequence }), d));

const every3 = <A>(xs: ReadonlyArray<A>): A[] => xs.filter((_, i) => i % 3 !== 1);

/**
 * 3000 records as three messages, encoded whole and as what de-duplication, the stored-rows
 * check and bisection hand the encoder, each byte-equal to `want` of the same records.
 */
const selections = (records: ReadonlyArray<EnrichedFlow>, d: Dialect, want: (rs: EnrichedFlow[]) => Buffer) => {
  const enc = makeWireFlowEncoder("db", d);
  const parts = [records.slice(0, 1000), records.slice(1000, 1001), records.slice(1001, 3000)];
  const wire = parts.flatMap((p, i) => message(p, BigInt(i), d));
  same(enc.encode(wire).body, want([...records]));
  same(enc.encode(every3(wire)).body, want(every3(records)));
  same(enc.encode(wire.slice(500, 1500)).body, want(records.slice(500, 1500)));
  same(enc.encode(wire.slice(1000, 1001)).body, want(records.slice(1000, 1001)));
  return { enc, wire };
};

describe("WireFlow transcoder", () => {
  it("gives the codec+encoder columns, keys and Avro slices for every row", () => {
    const bytes = EnrichedFlowCodec.encodeBatch(rows, { producer: "t", sequence: 1n });
    const out = transcodeBatch(bytes);
    expect(Either.isRight(out)).toBe(true);
    const wire = Either.getOrThrow(out);
    expect(wire).toHaveLength(rows.length);
    same(nativeBlock(FLOW_COLUMNS, [wire[0]!.batch.columns]), expectedNative(rows));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const w = wire[i]!;
      expect(decimalKey(wire[i]!)).toBe(`${r.flow_id}\u0000${r.start_ns}`);
      expect(w.keys.readBigInt64LE(w.keyAt)).toBe(r.flow_id);
      expect(w.keys.readBigInt64LE(w.keyAt + 8)).toBe(r.start_ns);
      expect(Either.getOrThrow(EnrichedFlowCodec.decode(avroOf(w)))).toEqual(r);
    }
  });

  it("grows its columns when rows take more bytes than their Avro (zero counters: 1 byte → 8)", () => {
    const zeros = makeFlows(2000).map((r) => ({
      ...r,
      bytes_sent: 0n,
      bytes_received: 0n,
      segs_sent: 0n,
      segs_received: 0n,
      retransmits: 0n,
      syn_retransmits: 0n,
      netns: 0n,
      cgroup_id: 0n,
    }));
    const bytes = EnrichedFlowCodec.encodeBatch(zeros, { producer: "t", sequence: 1n });
    const expected = expectedNative(zeros);
    expect(expected.length).toBeGreaterThan(bytes.length * 1.25 + 1024);
    const wire = Either.getOrThrow(transcodeBatch(bytes));
    same(nativeBlock(FLOW_COLUMNS, [wire[0]!.batch.columns]), expected);
  });

  it("encodes whole messages, and any selection of their rows, as the codec path's rows", () => {
    const { enc, wire } = selections(rows, "legacy", expectedNative);
    const keys = enc.encodeKeys(every3(wire));
    every3(rows).forEach((r, i) => {
      expect(keys.readBigInt64LE(16 * i)).toBe(r.flow_id);
      expect(keys.readBigInt64LE(16 * i + 8)).toBe(r.start_ns);
    });
  });

  it("keeps the first row of each identity, in order, as a Set of identities would", () => {
    const enc = makeWireFlowEncoder("db");
    // the same records again in a later message (a redelivery), and repeats inside one message
    const first = message(rows.slice(0, 2000), 1n);
    const again = message(
      [...rows.slice(1500, 2500), rows[7]!, rows[7]!, { ...rows[8]!, start_ns: rows[8]!.start_ns + (1n << 32n) }],
      2n,
    );
    const all = [...first, ...again];
    const seen = new Set<string>();
    const expected = all.filter((f) => !seen.has(decimalKey(f)) && seen.add(decimalKey(f)) !== undefined);
    const got = enc.unique!(all);
    expect(got.length).toBe(2501); // 2000 + rows 2000..2499 + row 8 with another start_ns
    expect(got).toEqual(expected);
    // identities that differ only in start_ns's high word share three of four words: probes meet
    const near = Array.from({ length: 3000 }, (_, i) => {
      const start_ns = rows[8]!.start_ns + (BigInt(i) << 32n);
      return { ...rows[8]!, start_ns, end_ns: start_ns + 1n };
    });
    const nearWire = message(near, 3n);
    expect(enc.unique!([...nearWire, ...nearWire]).length).toBe(3000);
  });

  it("keeps each record's own Avro bytes across array blocks (one counted by size)", () => {
    const zz = (n: number) => Buffer.from(longType.toBuffer(BigInt(n)));
    const [a, b, c] = rows.slice(0, 3).map((r) => Buffer.from(EnrichedFlowCodec.encode(r)));
    // block of 1; block of -2 with its byte size; end
    const records = Buffer.concat([zz(1), a!, zz(-2), zz(b!.length + c!.length), b!, c!, zz(0)]);
    const wire = Either.getOrThrow(transcodeRecords(records, 3));
    expect(wire.map((w) => Either.getOrThrow(EnrichedFlowCodec.decode(avroOf(w))))).toEqual(rows.slice(0, 3));
    expect(wire.map((w) => decimalKey(w))).toEqual(rows.slice(0, 3).map((r) => `${r.flow_id}\u0000${r.start_ns}`));
  });

  it("refuses what the codec refuses", () => {
    const bad = [rows[0]!, { ...rows[1]!, direction: "sideways" }];
    const bytes = EnrichedFlowCodec.encodeBatch(bad, { producer: "t", sequence: 1n });
    const ours = transcodeBatch(bytes);
    const codec = EnrichedFlowCodec.decodeBatch(bytes);
    expect(Either.isLeft(ours) && Either.isLeft(codec)).toBe(true);
    expect(Either.isLeft(ours) && ours.left.kind).toBe("invalid_record");
    expect(Either.isLeft(transcodeBatch(bytes.subarray(0, bytes.length - 7)))).toBe(true);
    expect(Either.isLeft(transcodeBatch(Buffer.from("garbage garbage")))).toBe(true);
  });

  it("never throws on a corrupted batch, and accepts only what the codec accepts", () => {
    const good = EnrichedFlowCodec.encodeBatch(rows.slice(0, 20), { producer: "t", sequence: 1n });
    let refused = 0;
    for (const [i, cut] of corruptions(good, 3000, 42)) {
      const ours = transcodeBatch(cut);
      const codec = EnrichedFlowCodec.decodeBatch(cut);
      if (Either.isLeft(ours)) refused++;
      else expect(Either.isRight(codec) && codec.right.records.length, `mutation ${i}`).toBe(ours.right.length);
    }
    expect(refused).toBeGreaterThan(100);
  });
});

describe("WireFlow transcoder, modern dialect (LowCardinality, IPv6)", () => {
  const columns = flowColumns("modern");
  const expectedModern = (records: ReadonlyArray<EnrichedFlow>) =>
    nativeOfRowBinary(columns, encodeFlows(records, "modern").body, records.length);
  const modern = (records: ReadonlyArray<EnrichedFlow>, sequence = 1n) => message(records, sequence, "modern");
  const odd = rows.map((r, i) => {
    const ips = ["2001:db8::1", "::ffff:1.2.3.4", "010.0.0.1", "fe80::1%eth0", "0.0.0.0", "255.255.255.255", "::"];
    if (i < ips.length) return { ...r, src_ip: ips[i]!, dst_ip: ips[ips.length - 1 - i]! };
    if (i === 10) return { ...r, node: "", comm: "", protocol: "ünï ✓", src: { ...r.src, namespace: "" } };
    return r;
  });

  it("gives the codec path's rows as Native, for one message, several, and any selection", () => {
    const enc = makeWireFlowEncoder("db", "modern");
    same(enc.encode(modern(odd)).body, expectedModern(odd));
    selections(odd, "modern", expectedModern);
    console.log(`modern Native: ${odd.length} rows in 1 and 3 messages and 3 selections, byte-equal to the oracle`);
  });

  // past 65536 keys (UInt32 indexes): test/sink-chdb.test.ts, where chdb reads them back
  it("widens a dictionary's indexes past 256 keys", () => {
    const enc = makeWireFlowEncoder("db", "modern");
    for (const n of [256, 257]) {
      const many = makeFlows(n).map((r, i) => ({ ...r, comm: `c${i}` }));
      const wire = [0, 1, 2, 3].flatMap((k) => modern(many.slice((k * n) >> 2, ((k + 1) * n) >> 2), BigInt(k)));
      same(enc.encode(wire).body, expectedModern(many));
    }
  });

  it("parses IPs of every textual form as ipaddr.js does (the RowBinary path), and refuses the same", () => {
    // a deterministic random walk over the forms: compressed, full, fixed-length, upper case,
    // IPv4 tails, zones, IPv4 with leading zeros, and mutations that break them
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const ipOf = (): string => {
      const b = Array.from({ length: 16 }, () => (rnd(3) === 0 ? 0 : rnd(256)));
      const run = rnd(8);
      for (let k = rnd(16); k < 16 && k < run * 2; k++) b[k] = 0;
      const v6 = ipaddr.fromByteArray(b) as ipaddr.IPv6;
      const v4 = `${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
      const forms: string[] = [
        v6.toString(),
        v6.toNormalizedString(),
        v6
          .toNormalizedString()
          .split(":")
          .map((g) => g.padStart(4, "0"))
          .join(":"),
        v6.toString().toUpperCase(),
        `::ffff:${v4}`,
        `::${v4}`,
        `${v6.toNormalizedString().split(":").slice(0, 6).join(":")}:${v4}`,
        `${v6.toString()}%eth0`,
        v4,
        `0${v4}`,
      ];
      let text: string = forms[rnd(forms.length)]!;
      if (rnd(4) === 0) {
        const at = rnd(text.length + 1);
        const ch = ":.0123456789abcdefg%"[rnd(20)]!;
        text = rnd(2) === 0 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      return text;
    };
    const records = makeFlows(3000).map((r) => ({ ...r, src_ip: ipOf(), dst_ip: ipOf() }));
    const enc = makeWireFlowEncoder("db", "modern");
    const out = enc.encode(modern(records));
    const want = encodeFlows(records, "modern");
    expect(out.rejected.map((r) => r.reason)).toEqual(want.rejected.map((r) => r.reason));
    expect(out.rejected.length).toBeGreaterThan(100);
    same(out.body, nativeOfRowBinary(columns, want.body, want.encoded.length));
    console.log(
      `${2 * records.length} IP texts: ${out.rejected.length} rows refused as the RowBinary path refuses them, the rest byte-equal`,
    );
  });

  it("leaves out a row whose IP is none, with the codec path's reason, and keeps the rest", () => {
    const enc = makeWireFlowEncoder("db", "modern");
    const bad = [odd[20]!, { ...odd[21]!, dst_ip: "not-an-ip" }, odd[22]!];
    const wire = modern(bad);
    const out = enc.encode(wire);
    const want = encodeFlows(bad, "modern");
    expect(out.rejected.map((r) => [r.row, r.reason])).toEqual([[wire[1], want.rejected[0]!.reason]]);
    expect(out.encoded).toEqual([wire[0], wire[2]]);
    same(out.body, expectedModern([bad[0]!, bad[2]!]));
  });
});
