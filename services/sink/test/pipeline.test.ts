// Bus → ClickHouse through SinkPipeline with MemoryBus and the real server: acks only
// after the insert, undecodable messages and refused rows go to the DLQ, redelivery adds nothing.
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type BusShape } from "@netpulse/runtime/bus/Bus";
import { MemoryBus, MemoryBusControl, type MemoryBusControlShape } from "@netpulse/runtime/bus/MemoryBus";
import { EnrichedFlowCodec, DeadLetterCodec } from "@netpulse/runtime/codec/codecs";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { Topics } from "@netpulse/runtime/topics";
import * as Either from "effect/Either";
import { flowsInput as input, runTopic } from "../src/SinkPipeline.js";
import { SinkWriter } from "../src/write/SinkWriter.js";
import { chLayer, count, dropDb, makeFlows, uniqueDb } from "./fixtures.js";

const db = uniqueDb("np_pipe");
const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** What a check sees of the in-memory bus: publish onto the input topic, read acks and the DLQ. */
interface TestBus {
  readonly offer: (...values: ReadonlyArray<Buffer>) => Promise<void>;
  readonly acked: () => number;
  readonly dlq: () => Promise<ReadonlyArray<Buffer>>;
}

const testBus = (bus: BusShape, control: MemoryBusControlShape): TestBus => ({
  offer: (...values) =>
    Effect.runPromise(
      bus.publish(
        Topics.flowsEnriched,
        values.map((value) => ({ key: "k", value })),
      ),
    ),
  acked: () => Effect.runSync(control.acked).length,
  dlq: () =>
    Effect.runPromise(
      Effect.map(MemoryBus.published(Topics.dlq).pipe(Effect.provideService(Bus, bus)), (c) =>
        [...c].map((m) => m.value),
      ),
    ),
});

/** runTopic over a MemoryBus and the real server while `check` runs; stopped when it resolves. */
const whilePipelineRuns = (lingerMs: number, check: (bus: TestBus) => Promise<void>) => {
  const layers = SinkWriter.layer({ baseMs: 50, maxMs: 500 }).pipe(
    Layer.provideMerge(Layer.merge(chLayer(db), Metrics.layerTest)),
    Layer.provideMerge(MemoryBus.layer),
  );
  const options = { group: "sink", batchRows: 2000, lingerMs, maxInFlight: 16, ackWaitMs: 60_000 };
  const program = Effect.gen(function* () {
    const writer = yield* SinkWriter;
    const bus = yield* Bus;
    // one partition: offsets 0, 1, 2 … in publish order
    for (const topic of [Topics.flowsEnriched, Topics.dlq])
      yield* bus.provision({ topic, partitions: 1, retentionMs: 60_000 });
    const fiber = yield* Effect.fork(runTopic(Topics.flowsEnriched, input(writer.encoders), options));
    const tb = testBus(bus, yield* MemoryBusControl);
    yield* Effect.promise(() => check(tb));
    yield* Fiber.interrupt(fiber);
  });
  return Effect.runPromise(Effect.scoped(Effect.provide(program, layers)));
};

describe("SinkPipeline", () => {
  beforeAll(() => dropDb(db));
  afterAll(() => dropDb(db));

  it("acks after insert, dead-letters garbage and refused rows, ignores redelivery", async () => {
    const rows = makeFlows(3000);
    const bad = { ...rows[42]!, start_ns: 1n, end_ns: 2n };
    const batches = [rows.slice(0, 1000), rows.slice(1000, 2000).map((r, i) => (i === 0 ? bad : r)), rows.slice(2000)];
    const wire = batches.map((b, i) =>
      EnrichedFlowCodec.encodeBatch(b, { producer: "enricher/test", sequence: BigInt(i) }),
    );
    await whilePipelineRuns(100, async (bus) => {
      await bus.offer(...wire, Buffer.from("not avro at all"));
      await waitFor(() => bus.acked() === 4);
      expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(2999);

      const dlq = (await bus.dlq()).map((value) => DeadLetterCodec.decode(value));
      expect(dlq.every(Either.isRight)).toBe(true);
      const letters = dlq.map((d) => (Either.isRight(d) ? d.right : undefined)!);
      expect(letters.map((l) => l.error_kind).sort()).toEqual([
        "clickhouse_rejected",
        expect.stringMatching(/garbage|truncated/),
      ]);
      const rejected = letters.find((l) => l.error_kind === "clickhouse_rejected")!;
      expect(rejected.offset).toBe("1");
      expect(rejected.reason).toMatch(/throwIf|395|CHECK/);
      const original = EnrichedFlowCodec.decode(rejected.original);
      expect(Either.isRight(original) && original.right.flow_id).toBe(bad.flow_id);

      // redeliver everything: acked again, nothing added
      await bus.offer(...wire);
      await waitFor(() => bus.acked() === 7);
      expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(2999);
    });
  });

  it("writes a batch as soon as it is full, without waiting for the linger", async () => {
    const rows = makeFlows(2000, { idBase: 7_000_000n });
    // two messages fill the batch exactly; no third one comes, and the linger is ten minutes
    await whilePipelineRuns(600_000, async (bus) => {
      await bus.offer(
        ...[rows.slice(0, 1000), rows.slice(1000)].map((b, i) =>
          EnrichedFlowCodec.encodeBatch(b, { producer: "t", sequence: BigInt(i) }),
        ),
      );
      await waitFor(() => bus.acked() === 2);
    });
    expect(await count(db, `SELECT count() FROM ${db}.flows WHERE flow_id >= 7000000`)).toBe(2000);
  });
});
