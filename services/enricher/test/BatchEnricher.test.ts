import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { loadSchemaFile, parseSchema } from "@netpulse/runtime/codec/avro";
import { shardOf } from "@netpulse/runtime/bus/shard";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { workloadPairKey } from "@netpulse/runtime/flowKey";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { BatchEnricher } from "../src/enrich/BatchEnricher.js";
import { encodeEndpoint } from "../src/enrich/endpointType.js";
import { enrichFlow } from "../src/enrich/enrichFlow.js";
import { MetadataIndex } from "../src/index/MetadataIndex.js";
import { slim } from "@netpulse/kube";
import * as k from "../../../test/support/kubeObjects.js";
import { corruptions } from "../../../test/support/corrupt.js";
import { rawFlow } from "../../../test/support/rawFlow.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

const makeIndex = () => {
  const idx = new MetadataIndex({
    graceMs: 60_000,
    cidrs: [{ name: "internet", cidr: "0.0.0.0/0" }],
    encoder: encodeEndpoint,
  });
  for (const o of [
    k.replicaSet("shop", "web-5d", "web"),
    k.pod("shop", "web-5d-a", {
      ip: "10.1.0.1",
      owner: { kind: "ReplicaSet", name: "web-5d" },
      labels: { app: "web" },
    }),
    k.pod("shop", "v6-pod", { ip: "fd00::17" }),
    k.service("shop", "web", "10.96.0.10"),
    k.node("node-a", "192.168.0.1"),
  ]) {
    const s = slim(o, ["app"]);
    if (s !== null) idx.apply({ type: "upsert", obj: s }, T0);
  }
  return idx;
};

const flows = [
  rawFlow(),
  rawFlow({
    flow_id: 1n,
    src_ip: "fd00::17",
    dst_ip: "2001:db8::1",
    comm: "wget-ü✓",
    direction: "server",
    close_reason: "rst_received",
  }),
  rawFlow({
    flow_id: 2n,
    src_ip: "192.168.0.1",
    dst_ip: "8.8.8.8",
    bytes_sent: 2n ** 63n - 1n,
    netns: 0n,
    start_ns: 9_000_000_000_000_000_000n,
    end_ns: 9_000_000_000_000_000_001n,
  }),
  rawFlow({ flow_id: 3n, src_ip: "not-an-ip", src_port: 0, dst_port: 65535, sampling: 100, state: "" }),
];

describe("BatchEnricher", () => {
  it("writes the same EnrichedFlow records as full decode + enrich + encode, without re-encoding the raw part", () => {
    const idx = makeIndex();
    const enricher = new BatchEnricher(idx, "enricher/test", 1);
    const out = enricher.enrich(RawFlowCodec.encodeBatch(flows, { producer: "capture/node-a", sequence: 7n }));
    if (Either.isLeft(out)) throw out.left;
    expect(out.right.passthrough).toBe(true);
    expect(out.right.count).toBe(4);
    expect(out.right.ends).toEqual({ pod: 2, node: 1, service: 2, external: 2, unknown: 1 });
    const decoded = EnrichedFlowCodec.decodeBatch(out.right.messages[0]!.value);
    if (Either.isLeft(decoded)) throw decoded.left;
    expect(decoded.right.header).toMatchObject({
      producer: "enricher/test",
      sequence: 0n,
      count: 4,
      schema: "netpulse.v1.EnrichedFlow",
    });
    expect(decoded.right.records).toEqual(flows.map((f) => enrichFlow(idx, f)));
    expect(decoded.right.records[0]?.src).toMatchObject({
      kind: "pod",
      pod: "web-5d-a",
      workload_kind: "Deployment",
      workload_name: "web",
    });
    expect(decoded.right.records[0]?.dst).toMatchObject({ kind: "service", service: "web" });
  });

  it("answers by flow start time on the byte path too: late flow → old pod, new flow → new pod", () => {
    const idx = makeIndex();
    const deletedAt = T0 + 100_000;
    const old = slim(k.pod("shop", "web-5d-a", { ip: "10.1.0.1" }), ["app"])!;
    idx.apply({ type: "delete", obj: old }, deletedAt);
    idx.apply(
      {
        type: "upsert",
        obj: slim(k.pod("shop", "reuser", { ip: "10.1.0.1", created: new Date(deletedAt + 1000).toISOString() }), [
          "app",
        ])!,
      },
      deletedAt + 1500,
    );
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    const late = rawFlow({ start_ns: ns(deletedAt - 2000), end_ns: ns(deletedAt) });
    const fresh = rawFlow({ start_ns: ns(deletedAt + 5000), end_ns: ns(deletedAt + 6000) });
    const out = Either.getOrThrow(
      new BatchEnricher(idx, "e", 1).enrich(
        RawFlowCodec.encodeBatch([late, fresh, late], { producer: "p", sequence: 0n }),
      ),
    );
    const pods = Either.getOrThrow(EnrichedFlowCodec.decodeBatch(out.messages[0]!.value)).records.map((r) => r.src.pod);
    expect(pods).toEqual(["web-5d-a", "reuser", "web-5d-a"]);
  });

  it("publishes nothing for an empty batch and numbers batches per producer", () => {
    const enricher = new BatchEnricher(makeIndex(), "enricher/test", 1);
    const empty = Either.getOrThrow(enricher.enrich(RawFlowCodec.encodeBatch([], { producer: "p", sequence: 0n })));
    expect(empty.messages).toEqual([]);
    for (const seq of [0n, 1n]) {
      const out = Either.getOrThrow(
        enricher.enrich(RawFlowCodec.encodeBatch([rawFlow()], { producer: "p", sequence: 0n, createdNs: 42n })),
      );
      const decoded = Either.getOrThrow(EnrichedFlowCodec.decodeBatch(out.messages[0]!.value));
      expect(decoded.records).toHaveLength(1);
      expect(decoded.header.sequence).toBe(seq);
      // the output batch carries its input's time, not the wall clock
      expect(decoded.header.createdNs).toBe(42n);
    }
  });

  it("splits a batch by workload pair: every record on its pair's partition, in input order within one", () => {
    const idx = makeIndex();
    const out = Either.getOrThrow(
      new BatchEnricher(idx, "enricher/test", 4).enrich(
        RawFlowCodec.encodeBatch([...flows, ...flows], { producer: "p", sequence: 0n }),
      ),
    );
    expect(out.count).toBe(flows.length * 2);
    const seen: EnrichedFlow[] = [];
    for (const m of out.messages) {
      const records = Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m.value)).records;
      for (const r of records) expect(shardOf(workloadPairKey(r), 4)).toBe(m.partition);
      expect(m.key).toBe(workloadPairKey(records[0]!));
      seen.push(...records);
    }
    const expected = [...flows, ...flows].map((f) => enrichFlow(idx, f));
    const byId = (a: EnrichedFlow, b: EnrichedFlow) => Number(a.flow_id - b.flow_id) || Number(a.start_ns - b.start_ns);
    expect([...seen].sort(byId)).toEqual([...expected].sort(byId));
    expect(new Set(out.messages.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  it("refuses the batches the codec refuses", () => {
    const enricher = new BatchEnricher(makeIndex(), "enricher/test", 1);
    const bad = RawFlowCodec.encodeBatch([rawFlow(), rawFlow({ direction: "sideways" })], {
      producer: "p",
      sequence: 0n,
    });
    const r1 = enricher.enrich(bad);
    expect(Either.isLeft(r1) && r1.left.kind).toBe("invalid_record");
    expect(Either.isLeft(r1) && r1.left.message).toMatch(/index 1: direction "sideways"/);
    expect(Either.isLeft(RawFlowCodec.decodeBatch(bad))).toBe(true);

    const backwards = RawFlowCodec.encodeBatch([rawFlow({ start_ns: 10_000n, end_ns: 9_000n })], {
      producer: "p",
      sequence: 0n,
    });
    expect(Either.isLeft(enricher.enrich(backwards))).toBe(true);
    const badClose = enricher.enrich(
      RawFlowCodec.encodeBatch([rawFlow({ close_reason: "eaten" })], { producer: "p", sequence: 0n }),
    );
    expect(Either.isLeft(badClose) && badClose.left.message).toMatch(/index 0: close_reason "eaten"/);

    const good = RawFlowCodec.encodeBatch([rawFlow(), rawFlow()], { producer: "p", sequence: 0n });
    expect(Either.isLeft(enricher.enrich(good.subarray(0, good.length - 30)))).toBe(true);
    expect(Either.isLeft(enricher.enrich(Buffer.from("definitely not avro")))).toBe(true);

    const enrichedBatch = EnrichedFlowCodec.encodeBatch([], { producer: "p", sequence: 0n });
    const r2 = enricher.enrich(enrichedBatch);
    expect(Either.isLeft(r2) && r2.left.kind).toBe("wrong_schema");
  });

  it("lies about the count → refused", () => {
    const batchType = parseSchema(loadSchemaFile("batch.v1.avsc"));
    const good = batchType.fromBuffer(RawFlowCodec.encodeBatch([rawFlow()], { producer: "p", sequence: 0n })) as {
      count: number;
    };
    const lying = batchType.toBuffer({ ...good, count: 2 });
    const r = new BatchEnricher(makeIndex(), "e", 1).enrich(lying);
    expect(Either.isLeft(r) && r.left.message).toMatch(/says 2 records, holds 1/);
  });

  it("never throws on a corrupted batch, and accepts only what the codec accepts", () => {
    const enricher = new BatchEnricher(makeIndex(), "enricher/test", 1);
    const good = RawFlowCodec.encodeBatch(flows, { producer: "p", sequence: 0n });
    let refused = 0;
    for (const [i, cut] of corruptions(good, 3000, 7)) {
      const ours = enricher.enrich(cut);
      const codec = RawFlowCodec.decodeBatch(cut);
      if (Either.isLeft(ours)) refused++;
      else expect(Either.isRight(codec) ? "accepted" : codec.left.message, `mutation ${i}`).toBe("accepted");
    }
    expect(refused).toBeGreaterThan(100);
  });
});
