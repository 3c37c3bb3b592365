// Bus → ClickHouse for one topic: decode each delivery (undecodable → DLQ + ack), gather
// deliveries into batches of batchRows records or lingerMs, write the batch exactly once,
// dead-letter the rows ClickHouse refused, and only then ack every delivery of the batch.
// The bus bounds what is fetched but un-acked (maxInFlight), so while ClickHouse is away memory
// stays bounded and the broker keeps the rest.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Schedule from "effect/Schedule";
import * as Sink from "effect/Sink";
import * as Stream from "effect/Stream";
import { Bus, type BusError, type Delivery } from "@netpulse/runtime/bus/Bus";
import { deadLetter } from "@netpulse/runtime/bus/deadLetter";
import type { BatchCodec } from "@netpulse/runtime/codec/BatchCodec";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import { makeIoYield } from "@netpulse/runtime/ioYield";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { Topics } from "@netpulse/runtime/topics";
import type { RowEncoder } from "./rows/RowEncoder.js";
import type { Failpoint } from "./SinkConfig.js";
import { avroOf, transcodeBatch } from "./rows/WireFlow.js";
import { SinkWriter, type Encoders } from "./write/SinkWriter.js";
import type { WriteResult } from "./write/TableWriter.js";

export const STAGE = "sink";

export interface PipelineOptions {
  readonly group: string;
  readonly batchRows: number;
  readonly lingerMs: number;
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  readonly failpoint?: Failpoint;
}

interface Decoded<R> {
  readonly delivery: Delivery;
  readonly records: ReadonlyArray<R>;
}

/** How one topic's messages become rows of one table. */
export interface TopicInput<R> {
  readonly decode: (bytes: Buffer) => Either.Either<ReadonlyArray<R>, CodecError>;
  /** One row back as Avro, for its dead letter. */
  readonly encodeOne: (row: R) => Buffer;
  readonly enc: RowEncoder<R>;
}

/** Batches on the wire; a lone record (e.g. one anomaly) is accepted too. */
export const codecInput = <R>(codec: BatchCodec<R>, enc: RowEncoder<R>): TopicInput<R> => ({
  enc,
  encodeOne: (row) => Buffer.from(codec.encode(row)),
  decode: (bytes) => {
    const batch = codec.decodeBatch(bytes);
    if (Either.isRight(batch)) return Either.right(batch.right.records);
    const single = codec.decode(bytes);
    return Either.isRight(single) ? Either.right([single.right]) : Either.left(batch.left);
  },
});

/**
 * Enriched flows: straight from Avro to RowBinary where the server takes the legacy DDL (no
 * records built), through the codec where it takes the modern one.
 */
export const flowsInput = (e: Encoders): TopicInput<unknown> =>
  (e.flowsWire === undefined
    ? codecInput(EnrichedFlowCodec, e.flows)
    : { enc: e.flowsWire, decode: transcodeBatch, encodeOne: avroOf }) as TopicInput<unknown>;

const busRetry = Schedule.exponential("100 millis", 2).pipe(Schedule.either(Schedule.spaced("5 seconds")));

export const runTopic = <R>(topic: string, input: TopicInput<R>, o: PipelineOptions) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const writer = yield* SinkWriter;
    const metrics = yield* Metrics;

    const publishDlq = (messages: ReturnType<typeof deadLetter>[]) =>
      messages.length === 0
        ? Effect.void
        : bus.publish(Topics.dlq, messages).pipe(
            Effect.tapError((e) => Effect.logWarning(`DLQ publish failed, retrying: ${e.message}`)),
            Effect.retry(busRetry),
          );

    const ack = (d: Delivery) =>
      d.ack.pipe(
        // a lost ack means a redelivery, which the writer turns into a no-op
        Effect.catchAll((e: BusError) =>
          Effect.logWarning(`ack failed (message will be redelivered, harmlessly): ${e.message}`),
        ),
      );

    // a backlog decodes message after message; let sockets (the insert in flight) progress
    const ioYield = makeIoYield();
    const decode = (d: Delivery) =>
      Effect.gen(function* () {
        yield* ioYield;
        const r = input.decode(d.value);
        if (Either.isRight(r)) {
          metrics.records.inc({ stage: STAGE, direction: "in" }, r.right.length);
          return [{ delivery: d, records: r.right }] as Decoded<R>[];
        }
        metrics.dlq.inc({ stage: STAGE, reason: r.left.kind });
        yield* publishDlq([deadLetter(d, STAGE, r.left.kind, r.left.message)]);
        yield* ack(d);
        return [] as Decoded<R>[];
      });

    interface Group {
      readonly items: ReadonlyArray<Decoded<R>>;
      readonly rows: ReadonlyArray<R>;
    }
    const toGroup = (chunk: Chunk.Chunk<Decoded<R>>): Group => {
      const items = Chunk.toReadonlyArray(chunk);
      const rows: R[] = [];
      for (const it of items) for (const r of it.records) rows.push(r);
      return { items, rows };
    };
    /** Which delivery each row came in; built only when rows were refused, not per batch. */
    const deliveries = (g: Group): Map<R, Delivery> => {
      const from = new Map<R, Delivery>();
      for (const it of g.items) for (const r of it.records) from.set(r, it.delivery);
      return from;
    };

    const afterWrite = ([g, result]: readonly [Group, WriteResult<R>]) =>
      Effect.gen(function* () {
        const from = result.rejected.length > 0 ? deliveries(g) : undefined;
        const letters = result.rejected.map(({ row, reason }) => {
          const d = from?.get(row) ?? g.items[0]!.delivery;
          metrics.dlq.inc({ stage: STAGE, reason: "clickhouse_rejected" });
          return deadLetter({ ...d, value: input.encodeOne(row) }, STAGE, "clickhouse_rejected", reason);
        });
        yield* publishDlq(letters);
        metrics.records.inc({ stage: STAGE, direction: "out" }, result.inserted);
        if (o.failpoint === "kill-after-insert" && result.inserted > 0) process.kill(process.pid, "SIGKILL");
        yield* Effect.forEach(g.items, (it) => ack(it.delivery), { discard: true });
      });

    const { enc } = input;
    yield* Effect.logInfo(`sink consuming ${topic} into ${enc.spec.name}`);
    yield* bus.consume(topic, { group: o.group, maxInFlight: o.maxInFlight, ackWaitMs: o.ackWaitMs }).pipe(
      Stream.mapEffect(decode),
      Stream.flattenIterables,
      // A batch closes as soon as it holds batchRows records (so the last message may take it
      // over by less than one message) or at the linger tick. Sink.foldWeighted would keep it
      // open at exactly batchRows until a message that does not fit arrives: a full batch then
      // waited for the next message or the linger (up to 1 s at the end of every burst).
      Stream.aggregateWithin(
        Sink.fold(
          { items: Chunk.empty<Decoded<R>>(), rows: 0 },
          (acc) => acc.rows < o.batchRows,
          (acc, d: Decoded<R>) => ({ items: Chunk.append(acc.items, d), rows: acc.rows + d.records.length }),
        ),
        Schedule.spaced(`${o.lingerMs} millis`),
      ),
      Stream.map((acc) => toGroup(acc.items)),
      Stream.filter((g) => g.items.length > 0),
      writer.writeAll(enc, (g: Group) => g.rows),
      Stream.mapEffect(afterWrite),
      Stream.runDrain,
    );
  }).pipe(Effect.annotateLogs({ topic }));
