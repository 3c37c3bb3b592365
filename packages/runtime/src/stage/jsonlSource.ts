// A JSON-lines file as a bus source: records parsed line by line (a bad line names file:line and
// field), cut into the same Avro batches a producer publishes, each handed on as a BusMessage.
// A stage's transform then runs on a file exactly as it runs on the topic.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import type { BusMessage } from "../bus/Bus.js";
import type { BatchCodec } from "../codec/BatchCodec.js";
import type { CodecError } from "../codec/CodecError.js";

/** The input could not be read or a line was bad (with `--skip-bad` off): message says where. */
export class InputError extends Data.TaggedError("InputError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

/** Records per batch cut from a file: what the capture's publisher sends at most. */
export const FILE_BATCH_RECORDS = 1000;

/** Lines of a file (or stdin for "-"), read lazily; `label` names it in errors (e.g. "--input f.jsonl"). */
export const readLines = (file: string, label: string = file): Stream.Stream<string, InputError> =>
  Stream.suspend(() => {
    const input = file === "-" ? process.stdin : createReadStream(file, { encoding: "utf8" });
    return Stream.fromAsyncIterable(
      createInterface({ input, crlfDelay: Infinity }),
      (e) =>
        new InputError({
          message: `${label}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
          cause: e,
        }),
    );
  });

export interface JsonlRecords<T> {
  readonly codec: BatchCodec<T>;
  readonly parse: (line: string, where: string) => Either.Either<T, CodecError>;
  /** A record's event time, which stamps its batch (so the same file always gives the same bytes). */
  readonly eventNs: (record: T) => bigint;
}

export interface JsonlOptions {
  /** The topic the batches stand in for (their `topic` field). */
  readonly topic: string;
  readonly batchRecords?: number;
  /** Count and skip bad lines instead of stopping at the first one. */
  readonly onBadLine?: (error: CodecError) => Effect.Effect<void>;
}

/**
 * The file's records as batches. Offsets are `file:line` of each batch's first record, keys
 * empty (a stage keys its own output), partition 0, the broker timestamp the batch's newest
 * event time.
 */
export const jsonlBatches = <T, E>(
  lines: Stream.Stream<string, E>,
  file: string,
  records: JsonlRecords<T>,
  o: JsonlOptions,
): Stream.Stream<BusMessage, E | InputError> => {
  const where = file === "-" ? "stdin" : file;
  let sequence = 0n;
  return lines.pipe(
    Stream.zipWithIndex,
    Stream.filter(([line]) => line.trim() !== ""),
    Stream.mapEffect(([line, i]) =>
      Either.match(records.parse(line, `${where}:${i + 1}`), {
        onRight: (record) => Effect.succeed([{ record, line: i + 1 }]),
        onLeft: (e) =>
          o.onBadLine === undefined
            ? Effect.fail(new InputError({ message: e.message, cause: e }))
            : Effect.as(o.onBadLine(e), []),
      }),
    ),
    Stream.flattenIterables,
    Stream.grouped(o.batchRecords ?? FILE_BATCH_RECORDS),
    Stream.map((chunk) => {
      const items = [...chunk];
      let newest = 0n;
      for (const it of items) {
        const t = records.eventNs(it.record);
        if (t > newest) newest = t;
      }
      const value = records.codec.encodeBatch(
        items.map((it) => it.record),
        { producer: `file:${where}`, sequence: sequence++, createdNs: newest },
      );
      return {
        topic: o.topic,
        key: "",
        value,
        partition: 0,
        offset: `${where}:${items[0]?.line ?? 0}`,
        timestampMs: Number(newest / 1_000_000n),
      } satisfies BusMessage;
    }),
  );
};
