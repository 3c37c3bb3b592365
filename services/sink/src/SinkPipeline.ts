// The sink stage for one topic, as a transform (runtime/stage): decode each message
// (undecodable → rejected, with its reason), gather messages into batches of batchRows records
// or lingerMs, write each batch exactly once (SinkWriter), and hand on the rows ClickHouse
// refused. The service runs it on `Bus.consume` and dead-letters what was refused before it acks
// (the bus bounds what is fetched but un-acked, so while ClickHouse is away memory stays bounded
// and the broker keeps the rest); `netpulse sink --input` runs the same transform on a file's
// batches.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Schedule from "effect/Schedule";
import * as Sink from "effect/Sink";
import * as Stream from "effect/Stream";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { decodeRecords, type BatchCodec } from "@netpulse/runtime/codec/BatchCodec";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import { makeIoYield } from "@netpulse/runtime/ioYield";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import type { Rejected, Transform } from "@netpulse/runtime/stage/Stage";
import { busOutput, runLive } from "@netpulse/runtime/stage/runStage";
import type { ClickHouseError } from "@netpulse/clickhouse/ClickHouseError";
import type { RowEncoder } from "./rows/RowEncoder.js";
import { avroOf } from "./rows/WireFlow.js";
import { SinkWriter, type Encoders, type SinkWriterShape } from "./write/SinkWriter.js";

export const STAGE = "sink";

export interface BatchOptions {
  readonly batchRows: number;
  readonly lingerMs: number;
}

export interface PipelineOptions extends BatchOptions {
  readonly group: string;
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
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
  decode: (bytes) => decodeRecords(codec, bytes),
});

/**
 * Enriched flows: straight from Avro to Native columns in the server's dialect (no records
 * built); through the codec and RowBinary only where no wire encoder is given.
 */
export const flowsInput = (e: Encoders): TopicInput<unknown> =>
  (e.flowsWire === undefined
    ? codecInput(EnrichedFlowCodec, e.flows)
    : { enc: e.flowsWire, decode: e.flowsWire.decode, encodeOne: avroOf }) as TopicInput<unknown>;

/** What one written batch gave: rows stored, rows already there, and messages or rows rejected. */
export interface SinkOutput {
  readonly records: number;
  readonly inserted: number;
  readonly duplicates: number;
  /** Undecodable messages and rows ClickHouse refused (as one-row messages), with their reasons. */
  readonly rejected: ReadonlyArray<Rejected>;
}

interface Decoded<R> {
  readonly message: BusMessage;
  readonly records: ReadonlyArray<R>;
  readonly rejected: Rejected | undefined;
}

/** Decode → batch → write exactly once, for one table. */
export const sinkTransform =
  <R>(input: TopicInput<R>, o: BatchOptions, writer: SinkWriterShape): Transform<SinkOutput, ClickHouseError> =>
  <A extends BusMessage, EIn>(messages: Stream.Stream<A, EIn>) => {
    // a backlog decodes message after message; let sockets (the insert in flight) progress
    const ioYield = makeIoYield();
    const decode = (m: A) =>
      Effect.as(ioYield, {
        message: m,
        ...Either.match(input.decode(m.value), {
          onRight: (records) => ({ records, rejected: undefined }),
          onLeft: (e) => ({ records: [], rejected: { message: m, kind: e.kind, reason: e.message } }),
        }),
      } as Decoded<R> & { readonly message: A });

    interface Group {
      readonly items: ReadonlyArray<Decoded<R> & { readonly message: A }>;
      readonly rows: ReadonlyArray<R>;
    }
    const toGroup = (chunk: Chunk.Chunk<Decoded<R> & { readonly message: A }>): Group => {
      const items = Chunk.toReadonlyArray(chunk);
      const rows: R[] = [];
      for (const it of items) for (const r of it.records) rows.push(r);
      return { items, rows };
    };
    /** Which message each row came in; built only when rows were refused, not per batch. */
    const messageOf = (g: Group): Map<R, BusMessage> => {
      const from = new Map<R, BusMessage>();
      for (const it of g.items) for (const r of it.records) from.set(r, it.message);
      return from;
    };

    return messages.pipe(
      Stream.mapEffect(decode),
      // A batch closes as soon as it holds batchRows records (so the last message may take it
      // over by less than one message) or at the linger tick. Sink.foldWeighted would keep it
      // open at exactly batchRows until a message that does not fit arrives: a full batch then
      // waited for the next message or the linger (up to 1 s at the end of every burst).
      Stream.aggregateWithin(
        Sink.fold(
          { items: Chunk.empty<Decoded<R> & { readonly message: A }>(), rows: 0 },
          (acc) => acc.rows < o.batchRows,
          (acc, d: Decoded<R> & { readonly message: A }) => ({
            items: Chunk.append(acc.items, d),
            rows: acc.rows + d.records.length,
          }),
        ),
        Schedule.spaced(`${o.lingerMs} millis`),
      ),
      Stream.map((acc) => toGroup(acc.items)),
      Stream.filter((g) => g.items.length > 0),
      writer.writeAll(input.enc, (g: Group) => g.rows),
      Stream.map(([g, result]) => {
        const rejected: Rejected[] = [];
        for (const it of g.items) if (it.rejected !== undefined) rejected.push(it.rejected);
        if (result.rejected.length > 0) {
          const from = messageOf(g);
          for (const { row, reason } of result.rejected) {
            const m = from.get(row) ?? (g.items[0] as Decoded<R>).message;
            rejected.push({ message: { ...m, value: input.encodeOne(row) }, kind: "clickhouse_rejected", reason });
          }
        }
        const out: SinkOutput = {
          records: g.rows.length,
          inserted: result.inserted,
          duplicates: result.duplicates,
          rejected,
        };
        return { from: g.items.map((it) => it.message), out };
      }),
    );
  };

/** The service's pipeline for one topic: consume, run the transform, dead-letter, then ack. */
export const runTopic = <R>(topic: string, input: TopicInput<R>, o: PipelineOptions) =>
  Effect.gen(function* () {
    const writer = yield* SinkWriter;
    const metrics = yield* Metrics;
    const deadLetter = busOutput(STAGE);
    yield* Effect.logInfo(`sink consuming ${topic} into ${input.enc.spec.name}`);
    yield* runLive(
      topic,
      { group: o.group, maxInFlight: o.maxInFlight, ackWaitMs: o.ackWaitMs },
      sinkTransform(input, o, writer),
      (out: SinkOutput) =>
        Effect.gen(function* () {
          metrics.records.inc({ stage: STAGE, direction: "in" }, out.records);
          for (const r of out.rejected) metrics.dlq.inc({ stage: STAGE, reason: r.kind });
          yield* deadLetter({ publish: [], rejected: out.rejected, recordsIn: 0, recordsOut: 0 });
          metrics.records.inc({ stage: STAGE, direction: "out" }, out.inserted);
        }),
    );
  }).pipe(Effect.annotateLogs({ topic }));
