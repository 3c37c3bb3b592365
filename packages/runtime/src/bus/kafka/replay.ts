// Replay on Kafka: the start offset of each partition comes from the broker's time index (or is
// the given offset, on that partition alone), the end is the high watermark captured at start or
// the first message past `toMs`. kafkajs has no group-less reader, so a throwaway group reads,
// seeks, pauses partitions as they finish, and is deleted afterwards.
import { randomUUID } from "node:crypto";
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Runtime from "effect/Runtime";
import * as Stream from "effect/Stream";
import type { Admin, Kafka } from "kafkajs";
import { BusError, type BusMessage, type ReplayFrom } from "../Bus.js";
import { busMessage, errorText } from "./client.js";
import { offerPatiently } from "./consume.js";
import { checkTopic } from "../shard.js";
import { MAX_MESSAGE_BYTES, retryWhileTransient } from "./topics.js";

/** At most REPLAY_CHUNK × REPLAY_BUFFER_CHUNKS messages read ahead of the stream's consumer (64, as before chunks). */
const REPLAY_CHUNK = 32;
const REPLAY_BUFFER_CHUNKS = 2;

interface Range {
  readonly start: bigint;
  /** High watermark at start: the first offset not to read. */
  readonly end: bigint;
}

const plan = (admin: Admin, topic: string, from: ReplayFrom) =>
  Effect.gen(function* () {
    const fail = (cause: unknown) => new BusError({ op: "replay", topic, message: errorText(cause), cause });
    const highs = yield* Effect.tryPromise({ try: () => admin.fetchTopicOffsets(topic), catch: fail });
    const starts =
      from._tag === "Time"
        ? yield* Effect.tryPromise({ try: () => admin.fetchTopicOffsetsByTimestamp(topic, from.fromMs), catch: fail })
        : [{ partition: from.partition, offset: from.offset }];
    if (from._tag === "Offset" && !/^\d+$/.test(from.offset))
      return yield* new BusError({ op: "replay", topic, message: `offset "${from.offset}" is not a Kafka offset` });
    const ranges = new Map<number, Range>();
    for (const s of starts) {
      const h = highs.find((x) => x.partition === s.partition);
      if (h === undefined) continue;
      const end = BigInt(h.high);
      // -1: no message at or after the time on this partition.
      const start = s.offset === "-1" ? end : BigInt(s.offset) < BigInt(h.low) ? BigInt(h.low) : BigInt(s.offset);
      if (start < end) ranges.set(s.partition, { start, end });
    }
    return { ranges, all: highs.map((h) => h.partition) };
  });

export const kafkaReplay = (
  kafka: Kafka,
  admin: Admin,
  topic: string,
  from: ReplayFrom,
): Stream.Stream<BusMessage, BusError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      yield* checkTopic("replay", topic);
      const { ranges, all } = yield* retryWhileTransient(plan(admin, topic, from));
      if (ranges.size === 0) return Stream.empty;
      const toMs = from.toMs ?? Number.POSITIVE_INFINITY;
      const runtime = yield* Effect.runtime<never>();
      return Stream.asyncScoped<BusMessage, BusError>(
        (emit) =>
          Effect.gen(function* () {
            const groupId = `netpulse-replay-${randomUUID()}`;
            let closing = false;
            const fail = (cause: unknown) => new BusError({ op: "replay", topic, message: errorText(cause), cause });
            const consumer = yield* Effect.acquireRelease(
              Effect.suspend(() => {
                const c = kafka.consumer({ groupId, maxWaitTimeInMs: 200, maxBytesPerPartition: MAX_MESSAGE_BYTES });
                return Effect.tryPromise({ try: () => c.connect(), catch: fail }).pipe(Effect.as(c));
              }),
              (c) =>
                Effect.sync(() => (closing = true)).pipe(
                  Effect.zipRight(Effect.promise(() => c.disconnect().catch(() => undefined))),
                  Effect.zipRight(
                    Effect.tryPromise(() => admin.deleteGroups([groupId])).pipe(
                      Effect.catchAll((e) => Effect.logDebug(`replay group ${groupId} not deleted: ${errorText(e)}`)),
                    ),
                  ),
                ),
            );
            consumer.on(consumer.events.CRASH, (e) => {
              if (!e.payload.restart) void emit.fail(fail(e.payload.error));
            });
            const open = new Set(ranges.keys());
            const finish = (partition: number) => {
              if (!open.delete(partition)) return;
              consumer.pause([{ topic, partitions: [partition] }]);
              if (open.size === 0) void emit.end();
            };
            yield* retryWhileTransient(
              Effect.tryPromise({ try: () => consumer.subscribe({ topic, fromBeginning: true }), catch: fail }),
            );
            yield* Effect.tryPromise({
              try: () =>
                consumer.run({
                  autoCommit: false,
                  eachBatch: async (payload) => {
                    const { batch } = payload;
                    const heartbeat = () => payload.heartbeat();
                    const range = ranges.get(batch.partition);
                    if (range === undefined || !open.has(batch.partition)) return;
                    // Messages go into the stream a chunk per queue offer (see kafka/consume.ts).
                    let part: BusMessage[] = [];
                    const flush = () => {
                      if (part.length === 0) return Promise.resolve(true);
                      const offered = emit.chunk(Chunk.unsafeFromArray(part));
                      part = [];
                      return offerPatiently(offered, () => closing, heartbeat);
                    };
                    for (const m of batch.messages) {
                      const offset = BigInt(m.offset);
                      if (offset < range.start) continue;
                      const message = busMessage(topic, batch.partition, m);
                      if (offset >= range.end || message.timestampMs > toMs) {
                        await flush();
                        return finish(batch.partition);
                      }
                      part.push(message);
                      if (offset + 1n >= range.end) {
                        await flush();
                        return finish(batch.partition);
                      }
                      if (part.length >= REPLAY_CHUNK && !(await flush())) return;
                    }
                    if (!(await flush())) return;
                    await heartbeat();
                  },
                }),
              catch: fail,
            });
            // After run(): seek what we read, pause what we don't.
            const idle = all.filter((p) => !ranges.has(p));
            if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
            for (const [partition, range] of ranges)
              consumer.seek({ topic, partition, offset: range.start.toString() });
            Runtime.runFork(runtime)(Effect.logDebug(`replaying ${topic} partitions ${[...ranges.keys()].join(",")}`));
          }),
        { bufferSize: REPLAY_BUFFER_CHUNKS, strategy: "suspend" },
      );
    }),
  );
