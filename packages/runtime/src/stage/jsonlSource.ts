// A JSON-lines file as a bus source: records parsed line by line (a bad line names file:line and
// field), cut into the same Avro batches a producer publishes, each handed on as a BusMessage.
// A stage's transform then runs on a file exactly as it runs on the topic.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import * as Chunk from "effect/Chunk";
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

/**
 * Lines of a file (or stdin for "-"), read lazily; a file in its own chunks (64 KiB), so a stage
 * handles lines a chunk at a time rather than paying a stream step per line; `label` names the
 * file in errors (e.g. "--input f.jsonl").
 */
export const readLines = (file: string, label: string = file): Stream.Stream<string, InputError> => {
  const cannotRead = (e: unknown) =>
    new InputError({
      message: `${label}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      cause: e,
    });
  // stdin through readline, a line at a time: its iterator ends when the command is interrupted
  // (Ctrl-C) while a pipe is open but idle; the async iterator of process.stdin itself does not.
  if (file === "-")
    return Stream.suspend(() =>
      Stream.fromAsyncIterable(createInterface({ input: process.stdin, crlfDelay: Infinity }), cannotRead),
    );
  return Stream.suspend(() => {
    // Lines are handed on as soon as their chunk arrives (Stream.splitLines holds a chunk's lines
    // back until the next one); "\r\n" ends a line too.
    let rest = "";
    const complete = (text: string): Chunk.Chunk<string> => {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      return Chunk.unsafeFromArray(parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)));
    };
    return Stream.fromAsyncIterable<Uint8Array, InputError>(createReadStream(file), cannotRead).pipe(
      Stream.decodeText(),
      Stream.mapConcatChunk(complete),
      Stream.concat(Stream.suspend(() => (rest === "" ? Stream.empty : Stream.make(rest.replace(/\r$/, ""))))),
    );
  });
};

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
  let lineNo = 0;
  // A chunk of lines at a time: parse them all, then count the bad ones or stop at the first.
  const parseChunk = (lines: Chunk.Chunk<string>) =>
    Effect.suspend(() => {
      const good: Array<{ readonly record: T; readonly line: number }> = [];
      const bad: CodecError[] = [];
      for (const line of lines) {
        const n = ++lineNo;
        if (line.trim() === "") continue;
        const r = records.parse(line, `${where}:${n}`);
        if (Either.isRight(r)) good.push({ record: r.right, line: n });
        else if (o.onBadLine === undefined)
          return Effect.fail(new InputError({ message: r.left.message, cause: r.left }));
        else bad.push(r.left);
      }
      const out = Chunk.unsafeFromArray(good);
      return bad.length === 0 || o.onBadLine === undefined
        ? Effect.succeed(out)
        : Effect.as(Effect.forEach(bad, o.onBadLine, { discard: true }), out);
    });
  return lines.pipe(
    Stream.mapChunksEffect(parseChunk),
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
