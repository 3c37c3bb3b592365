// The enricher stage end to end on MemoryBus: consume raw batches, publish enriched ones keyed by
// the sorted workload pair, DLQ for a corrupt message, ack only after the publish (retried when it fails).
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import { describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { DeadLetterCodec, EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { Topics } from "@netpulse/runtime/topics";
import { MemoryBus, MemoryBusControl } from "@netpulse/runtime/bus/MemoryBus";
import { EnricherConfig } from "../services/enricher/src/config.js";
import { enrichLoop, TOPICS } from "../services/enricher/src/EnricherService.js";
import { Index, makeIndex } from "../services/enricher/src/IndexService.js";
import { slim } from "@netpulse/kube";
import { rawFlow } from "./support/rawFlow.js";
import * as k from "./support/kubeObjects.js";

describe("enricher stage", () => {
  it("publishes enriched batches keyed by the workload pair, DLQs a corrupt one, acks each after its publish (retried when it fails)", async () => {
    const config = EnricherConfig.make({ instance: "t1", cidrs: [{ name: "internet", cidr: "0.0.0.0/0" }] });
    const index = makeIndex(config);
    for (const o of [
      k.replicaSet("shop", "web-5d", "web"),
      k.pod("shop", "web-5d-a", {
        ip: "10.1.0.1",
        owner: { kind: "ReplicaSet", name: "web-5d" },
        labels: { app: "web" },
      }),
    ]) {
      index.apply({ type: "upsert", obj: slim(o, config.labelKeys)! }, Date.now());
    }
    const good = (n: number) =>
      RawFlowCodec.encodeBatch(
        Array.from({ length: n }, (_, i) => rawFlow({ flow_id: BigInt(i), dst_ip: "1.1.1.1" })),
        { producer: "capture/a", sequence: 0n },
      );
    const layer = Layer.mergeAll(
      MemoryBus.layer,
      Layer.succeed(Index, index),
      Layer.succeed(EnricherConfig, config),
      Metrics.layerTest,
    );
    const run = await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        const control = yield* MemoryBusControl;
        yield* Effect.forEach(TOPICS, (t) => bus.provision({ ...t, partitions: 1 }), { discard: true });
        yield* bus.publish(Topics.flowsRaw, [
          { key: "10.1.0.1|1.1.1.1", value: good(3) },
          { key: "k-bad", value: Buffer.from("not a batch at all") },
          { key: "10.1.0.1|1.1.1.1", value: good(2) },
        ]);
        yield* control.failPublishes(2, Topics.flowsEnriched);
        const fiber = yield* Effect.fork(enrichLoop);
        while ((yield* control.acked).length < 3) yield* Effect.sleep("10 millis");
        yield* Fiber.interrupt(fiber);
        const { registry } = yield* Metrics;
        return {
          log: (yield* control.log).filter((l) => !l.startsWith(`publish ${Topics.flowsRaw} `)),
          enriched: [...(yield* MemoryBus.published(Topics.flowsEnriched))],
          dlq: [...(yield* MemoryBus.published(Topics.dlq))],
          metricsText: yield* Effect.promise(() => registry.metrics()),
        };
      }).pipe(Effect.scoped, Effect.provide(layer)),
    );
    const { metricsText } = run;

    expect(run.log).toEqual([
      `publish ${Topics.flowsEnriched} failed`,
      `publish ${Topics.flowsEnriched} failed`,
      `publish ${Topics.flowsEnriched} internet|shop/web`,
      `ack ${Topics.flowsRaw}/0@0`,
      `publish ${Topics.dlq} k-bad`,
      `ack ${Topics.flowsRaw}/0@1`,
      `publish ${Topics.flowsEnriched} internet|shop/web`,
      `ack ${Topics.flowsRaw}/0@2`,
    ]);
    const enriched = run.enriched.map((m) => Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m.value)));
    expect(enriched.map((b) => b.records.length)).toEqual([3, 2]);
    expect(enriched[0]?.header.producer).toBe("enricher/t1");
    expect(enriched.map((b) => b.header.sequence)).toEqual([0n, 1n]);
    expect(enriched[1]?.records[1]).toMatchObject({
      flow_id: 1n,
      src: { kind: "pod", pod: "web-5d-a", workload_kind: "Deployment", workload_name: "web" },
      dst: { kind: "external", external_name: "internet" },
    });

    const letter = Either.getOrThrow(DeadLetterCodec.decode(run.dlq[0]!.value));
    expect(letter).toMatchObject({ topic: Topics.flowsRaw, offset: "1", stage: "enricher", error_kind: "garbage" });
    expect(letter.original.toString()).toBe("not a batch at all");
    expect(letter.reason).toMatch(/undecodable batch envelope/);

    expect(metricsText).toMatch(/netpulse_enricher_ends_total\{kind="pod"\} 5/);
    expect(metricsText).toMatch(/netpulse_enricher_ends_total\{kind="external"\} 5/);
    expect(metricsText).toMatch(/netpulse_dlq_total\{stage="enricher",reason="garbage"\} 1/);
    expect(metricsText).toMatch(/netpulse_records_total\{stage="enricher",direction="out"\} 5/);
  });

  it("on the in-memory bus: everything acked once published, so a restarted member publishes nothing twice", async () => {
    const config = EnricherConfig.make({ instance: "m1" });
    const index = makeIndex(config);
    index.apply({ type: "upsert", obj: slim(k.pod("shop", "a", { ip: "10.1.0.1" }), config.labelKeys)! }, Date.now());
    const raw = (n: number) =>
      RawFlowCodec.encodeBatch(
        Array.from({ length: n }, (_, i) => rawFlow({ flow_id: BigInt(i) })),
        { producer: "capture/a", sequence: 0n },
      );
    const layer = Layer.mergeAll(
      MemoryBus.layer,
      Layer.succeed(Index, index),
      Layer.succeed(EnricherConfig, config),
      Metrics.layerTest,
    );
    const counts = await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* Effect.forEach(TOPICS, (t) => bus.provision(t), { discard: true });
        yield* bus.publish(Topics.flowsRaw, [
          { key: "a|b", value: raw(4) },
          { key: "c|d", value: Buffer.from([1, 2, 3]) },
          { key: "a|b", value: raw(1) },
        ]);
        const published = (topic: string) => Effect.map(MemoryBus.published(topic), (c) => [...c]);
        const runUntil = (enriched: number) =>
          Effect.gen(function* () {
            const fiber = yield* Effect.fork(Effect.scoped(enrichLoop));
            while ((yield* published(Topics.flowsEnriched)).length < enriched) yield* Effect.sleep("10 millis");
            yield* Effect.sleep("100 millis");
            const exit = yield* Fiber.interrupt(fiber);
            // Interrupted, not dead: a member that failed on start would "find nothing to do" too.
            if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause))
              return yield* Effect.die(Cause.pretty(exit.cause));
          });
        yield* runUntil(2);
        // A second member of the same group finds nothing left to do.
        yield* runUntil(2);
        const enriched = yield* published(Topics.flowsEnriched);
        const dlq = yield* published(Topics.dlq);
        return {
          enriched: enriched.map((m) => [
            m.key,
            Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m.value)).records.length,
          ]),
          dlq: dlq.map((m) => m.key),
          firstSrc: Either.getOrThrow(EnrichedFlowCodec.decodeBatch(enriched[0]!.value)).records[0]?.src.pod,
        };
      }).pipe(Effect.provide(layer)),
    );
    expect(counts).toEqual({
      enriched: [
        ["10.96.0.10|shop/a", 4],
        ["10.96.0.10|shop/a", 1],
      ],
      dlq: ["c|d"],
      firstSrc: "a",
    });
  });
});
