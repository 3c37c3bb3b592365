// One transform for live and offline: the same raw flows, once read from a JSON-lines file (what
// `netpulse enrich` does) and once published to a real broker and consumed with acks (what the
// enricher service does), go through enrichTransform and give byte-identical output batches —
// envelopes included, since an output batch carries its input's event time, not the wall clock.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { afterAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { parseRawFlowJson, toJsonLine } from "@netpulse/runtime/codec/json";
import { jsonlBatches, readLines } from "@netpulse/runtime/stage/jsonlSource";
import { runLive, runOffline } from "@netpulse/runtime/stage/runStage";
import type { StageOutput } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import { BatchEnricher, EnricherConfig, enrichTransform, makeIndex } from "@netpulse/enricher";
import { slim } from "@netpulse/kube";
import { busLayer, uniqueGroup, uniqueTopic, type BrokerKind } from "./support/busHarness.js";
import * as k from "./support/kubeObjects.js";
import { rawFlow } from "./support/rawFlow.js";

const dir = mkdtempSync(join(tmpdir(), "netpulse-file-vs-bus-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARTITIONS = 4;

/** A fresh enricher over the same objects: the transform both paths run. */
const transform = () => {
  const index = makeIndex(EnricherConfig.make({ cidrs: [{ name: "internet", cidr: "0.0.0.0/0" }] }));
  for (const o of [
    k.replicaSet("shop", "web-5d", "web"),
    k.pod("shop", "web-5d-a", { ip: "10.1.0.1", owner: { kind: "ReplicaSet", name: "web-5d" } }),
    k.pod("data", "pg-0", { ip: "10.2.0.9", owner: { kind: "StatefulSet", name: "pg" } }),
  ])
    index.apply({ type: "upsert", obj: slim(o, ["app"])! }, 0);
  return enrichTransform(new BatchEnricher(index, "enricher/test", PARTITIONS));
};

const collect = (into: Buffer[]) => (out: StageOutput) =>
  Effect.sync(() => {
    for (const p of out.publish) {
      expect(p.topic).toBe(Topics.flowsEnriched);
      for (const m of p.messages) into.push(Buffer.from(m.value));
    }
  });

describe.each<BrokerKind>(["nats", "kafka"])("enricher transform: file and %s give the same bytes", (kind) => {
  it("byte-identical enriched batches", async () => {
    const flows = Array.from({ length: 2_500 }, (_, i) =>
      rawFlow({
        flow_id: BigInt(i + 1),
        start_ns: 1_767_225_600_000_000_000n + BigInt(i) * 1_000_000n,
        end_ns: 1_767_225_605_000_000_000n + BigInt(i) * 1_000_000n,
        src_ip: i % 3 === 0 ? "10.1.0.1" : `192.0.2.${i % 200}`,
        dst_ip: i % 2 === 0 ? "10.2.0.9" : "10.2.0.10",
      }),
    );
    const file = join(dir, `raw-${kind}.jsonl`);
    writeFileSync(file, `${flows.map((f) => toJsonLine(f)).join("\n")}\n`);
    const source = () =>
      jsonlBatches(
        readLines(file),
        file,
        { codec: RawFlowCodec, parse: parseRawFlowJson, eventNs: (f) => f.end_ns },
        { topic: Topics.flowsRaw },
      );

    const fromFile: Buffer[] = [];
    await Effect.runPromise(runOffline(source(), transform(), collect(fromFile)));

    const topic = uniqueTopic("enrich-equiv");
    const fromBus: Buffer[] = [];
    await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision({ topic, partitions: 1, retentionMs: 600_000 });
        const batches = yield* Stream.runCollect(source());
        yield* bus.publish(
          topic,
          [...batches].map((m) => ({ key: "", value: m.value, partition: 0 })),
        );
        // the service's path: a consumer group, acks after the output, until every batch came out
        yield* runLive(topic, { group: uniqueGroup("enrich-equiv") }, transform(), collect(fromBus)).pipe(
          Effect.race(Effect.sleep("60 seconds")),
          Effect.raceFirst(
            Effect.repeat(Effect.sleep("100 millis"), { until: () => fromBus.length >= fromFile.length }),
          ),
        );
      }).pipe(Effect.provide(busLayer(kind)), Effect.scoped),
    );
    expect(fromFile.length).toBeGreaterThan(3); // 3 input batches, several partitions each
    expect(fromBus.length).toBe(fromFile.length);
    expect(fromBus.map((b) => b.toString("base64"))).toEqual(fromFile.map((b) => b.toString("base64")));
  }, 120_000);
});
