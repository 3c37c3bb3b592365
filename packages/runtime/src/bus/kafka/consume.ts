// Group consumption on Kafka: one Kafka consumer group per (topic, group), like JetStream's
// durable per (topic, group), so that a service reading several topics under one group name gets
// every partition of each: kafkajs's round-robin assigner hands the partitions of all the group's
// topics to all its members whatever each subscribed to, and a member drops partitions of topics
// it did not subscribe to, so those were read by nobody (kafkajs issues 1040 and 1679; the sink's
// three topics under "sink" left flows partitions unread). One kafkajs consumer per stream,
// eachBatch feeding a bounded Effect queue (the batch handler waits for room and keeps the group
// heartbeat alive while it waits), no auto-commit. A partition's offset is committed only up to
// the last message that was acked together with everything before it (OffsetTracker), on a short
// timer and once more on close. A rebalance makes kafkajs re-read every assigned partition from
// its committed offset, so all un-acked state is dropped then; those messages come again to
// whoever owns them now.
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Runtime from "effect/Runtime";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import type { Consumer, Kafka } from "kafkajs";
import { BusError, type ConsumeOptions, type Delivery } from "../Bus.js";
import { busMessage, errorText } from "./client.js";
import { OffsetTracker } from "./OffsetTracker.js";
import { checkTopic } from "../shard.js";
import { MAX_MESSAGE_BYTES } from "./topics.js";

export const DEFAULT_MAX_IN_FLIGHT = 32;

/** The Kafka group id of a Bus group on one topic (e.g. `sink.netpulse.flows.enriched`). */
export const kafkaGroupId = (group: string, topic: string): string => `${group}.${topic}`;
const COMMIT_EVERY = Duration.millis(100);
const HEARTBEAT_WHILE_BLOCKED_MS = 1_000;

/** Errors that only mean "the group moved on": those commits are moot, the messages come again. */
const REBALANCE = /rebalanc|generation|unknown member|not coordinator|group coordinator/i;

const commit = (consumer: Consumer, tracker: OffsetTracker, topic: string) =>
  Effect.suspend(() => {
    const offsets = tracker.takeCommits();
    if (offsets.length === 0) return Effect.void;
    const epochs = new Map(offsets.map((o) => [o.partition, tracker.epochOf(o.partition) ?? -1]));
    return Effect.tryPromise({
      try: () => consumer.commitOffsets(offsets.map((o) => ({ topic, ...o }))),
      catch: (cause) => cause,
    }).pipe(
      Effect.catchAll((cause) =>
        REBALANCE.test(errorText(cause))
          ? Effect.logDebug(`commit skipped, group rebalancing: ${errorText(cause)}`)
          : Effect.sync(() => tracker.restore(offsets, epochs)).pipe(
              Effect.zipRight(Effect.logWarning(`commit failed, will retry: ${errorText(cause)}`)),
            ),
      ),
    );
  });

export const kafkaConsume = (kafka: Kafka, topic: string, options: ConsumeOptions): Stream.Stream<Delivery, BusError> =>
  Stream.asyncScoped<Delivery, BusError>(
    (emit) =>
      Effect.gen(function* () {
        yield* checkTopic("consume", topic);
        const tracker = new OffsetTracker();
        const fail = (what: string) => (cause: unknown) =>
          new BusError({ op: "consume", topic, message: `${what}: ${errorText(cause)}`, cause });
        const runtime = yield* Effect.runtime<never>();
        const log = (message: string) =>
          Runtime.runFork(runtime)(
            Effect.logDebug(message).pipe(Effect.annotateLogs({ bus: "kafka", topic, group: options.group })),
          );
        let closing = false;
        let joins = 0;
        const consumer = yield* Effect.acquireRelease(
          Effect.suspend(() => {
            const c = kafka.consumer({
              groupId: kafkaGroupId(options.group, topic),
              sessionTimeout: 30_000,
              rebalanceTimeout: 30_000,
              heartbeatInterval: 3_000,
              maxWaitTimeInMs: 500,
              maxBytesPerPartition: MAX_MESSAGE_BYTES,
              allowAutoTopicCreation: false,
            });
            return Effect.tryPromise({ try: () => c.connect(), catch: fail("consumer connect failed") }).pipe(
              Effect.as(c),
            );
          }),
          // Last acks are committed before leaving the group, so the next owner starts after them.
          (c) =>
            Effect.sync(() => (closing = true)).pipe(
              Effect.zipRight(commit(c, tracker, topic)),
              Effect.zipRight(Effect.promise(() => c.disconnect().catch(() => undefined))),
            ),
        );
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          joins++;
          tracker.resetAll();
          log(
            `joined group ${e.payload.groupId}: partitions ${JSON.stringify(e.payload.memberAssignment[topic] ?? [])}`,
          );
        });
        consumer.on(consumer.events.CRASH, (e) => {
          if (!e.payload.restart) void emit.fail(fail("consumer crashed")(e.payload.error));
        });
        yield* Effect.tryPromise({
          try: () => consumer.subscribe({ topic, fromBeginning: true }),
          catch: fail("subscribe failed"),
        });
        yield* Effect.tryPromise({
          try: () =>
            consumer.run({
              autoCommit: false,
              eachBatchAutoResolve: false,
              eachBatch: async (payload) => {
                const { batch } = payload;
                const heartbeat = () => payload.heartbeat();
                const generation = joins;
                for (const message of batch.messages) {
                  if (closing || !payload.isRunning() || payload.isStale() || generation !== joins) return;
                  const ticket = tracker.delivered(batch.partition, BigInt(message.offset));
                  const delivery: Delivery = {
                    ...busMessage(topic, batch.partition, message),
                    ack: Effect.sync(() => void tracker.ack(ticket)),
                  };
                  if (!(await offerPatiently(emit.single(delivery), () => closing, heartbeat))) return;
                  payload.resolveOffset(message.offset);
                }
                await heartbeat();
              },
            }),
          catch: fail("consumer run failed"),
        });
        yield* commit(consumer, tracker, topic).pipe(Effect.repeat(Schedule.spaced(COMMIT_EVERY)), Effect.forkScoped);
      }),
    { bufferSize: Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT), strategy: "suspend" },
  );

/**
 * Wait until the queue took the element, heartbeating meanwhile so the group does not think we
 * died; false if the stream closed first (the element may never be taken then).
 */
export const offerPatiently = async (offered: Promise<void>, closed: () => boolean, heartbeat: () => Promise<void>) => {
  const taken = offered.then(() => true);
  while (!(await Promise.race([taken, sleep(HEARTBEAT_WHILE_BLOCKED_MS)]))) {
    if (closed()) return false;
    await heartbeat();
  }
  return true;
};

const sleep = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());
