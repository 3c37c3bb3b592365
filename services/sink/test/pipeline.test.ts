// Bus → ClickHouse through SinkPipeline with an in-memory bus and the real server: acks only
// after the insert, undecodable messages and refused rows go to the DLQ, redelivery adds nothing.
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnrichedFlowCodec, DeadLetterCodec } from "@netpulse/runtime/codec/codecs";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { Topics } from "@netpulse/runtime/topics";
import * as Either from "effect/Either";
import { flowsInput as input, runTopic } from "../src/SinkPipeline.js";
import { SinkWriter } from "../src/write/SinkWriter.js";
import { chLayer, count, dropDb, makeFlows, uniqueDb } from "./fixtures.js";
import { makeFakeBus, type FakeBus } from "./fakeBus.js";

const db = uniqueDb("np_pipe");
const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** runTopic over `bus` and the real server while `check` runs; stopped when it resolves. */
const whilePipelineRuns = (bus: FakeBus, lingerMs: number, check: () => Promise<void>) => {
  const layers = SinkWriter.layer({ baseMs: 50, maxMs: 500 }).pipe(
    Layer.provideMerge(Layer.merge(chLayer(db), Metrics.layerTest)),
    Layer.provideMerge(bus.layer),
  );
  const options = { group: "sink", batchRows: 2000, lingerMs, maxInFlight: 16, ackWaitMs: 60_000 };
  const program = Effect.gen(function* () {
    const writer = yield* SinkWriter;
    const fiber = yield* Effect.fork(runTopic(Topics.flowsEnriched, input(writer.encoders), options));
    yield* Effect.promise(check);
    yield* Fiber.interrupt(fiber);
  });
  return Effect.runPromise(Effect.scoped(Effect.provide(program, layers)));
};

describe("SinkPipeline", () => {
  beforeAll(() => dropDb(db));
  afterAll(() => dropDb(db));

  it("acks after insert, dead-letters garbage and refused rows, ignores redelivery", async () => {
    const bus = makeFakeBus();
    const rows = makeFlows(3000);
    const bad = { ...rows[42]!, start_ns: 1n, end_ns: 2n };
    const batches = [rows.slice(0, 1000), rows.slice(1000, 2000).map((r, i) => (i === 0 ? bad : r)), rows.slice(2000)];
    const wire = batches.map((b, i) =>
      EnrichedFlowCodec.encodeBatch(b, { producer: "enricher/test", sequence: BigInt(i) }),
    );
    await whilePipelineRuns(bus, 100, async () => {
      wire.forEach((w, i) => bus.offer(Topics.flowsEnriched, w, String(i + 1)));
      bus.offer(Topics.flowsEnriched, Buffer.from("not avro at all"), "4");
      await waitFor(() => bus.acked.length === 4);
      expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(2999);

      const dlq = (bus.published.get(Topics.dlq) ?? []).map((m) => DeadLetterCodec.decode(m.value));
      expect(dlq.every(Either.isRight)).toBe(true);
      const letters = dlq.map((d) => (Either.isRight(d) ? d.right : undefined)!);
      expect(letters.map((l) => l.error_kind).sort()).toEqual([
        "clickhouse_rejected",
        expect.stringMatching(/garbage|truncated/),
      ]);
      const rejected = letters.find((l) => l.error_kind === "clickhouse_rejected")!;
      expect(rejected.offset).toBe("2");
      expect(rejected.reason).toMatch(/throwIf|395|CHECK/);
      const original = EnrichedFlowCodec.decode(rejected.original);
      expect(Either.isRight(original) && original.right.flow_id).toBe(bad.flow_id);

      // redeliver everything: acked again, nothing added
      wire.forEach((w, i) => bus.offer(Topics.flowsEnriched, w, String(i + 1)));
      await waitFor(() => bus.acked.length === 7);
      expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(2999);
    });
  });

  it("writes a batch as soon as it is full, without waiting for the linger", async () => {
    const bus = makeFakeBus();
    const rows = makeFlows(2000, { idBase: 7_000_000n });
    // two messages fill the batch exactly; no third one comes, and the linger is ten minutes
    await whilePipelineRuns(bus, 600_000, async () => {
      [rows.slice(0, 1000), rows.slice(1000)].forEach((b, i) =>
        bus.offer(
          Topics.flowsEnriched,
          EnrichedFlowCodec.encodeBatch(b, { producer: "t", sequence: BigInt(i) }),
          `f${i}`,
        ),
      );
      await waitFor(() => bus.acked.length === 2);
    });
    expect(await count(db, `SELECT count() FROM ${db}.flows WHERE flow_id >= 7000000`)).toBe(2000);
  });
});
