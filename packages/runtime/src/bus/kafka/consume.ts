// Group consumption on Kafka: one Kafka consumer group per (topic, group), like JetStream's
// durable per (topic, group), so that a service reading several topics under one group name gets
// every partition of each: kafkajs's round-robin assigner hands the partitions of all the group's
// topics to all its members whatever each subscribed to, and a member drops partitions of topics
// it did not subscribe to, so those were read by nobody (kafkajs issues 1040 and 1679; the sink's
// three topics under "sink" left flows partitions unread). One kafkajs consumer per stream,
// eachBatch feeding a bounded Effect queue in chunks of deliveries (the batch handler waits for room
// and keeps the group heartbeat alive while it waits), no auto-commit. Session timeout and heartbeat
// come from the bus settings (NETPULSE_KAFKA_SESSION_TIMEOUT_MS, NETPULSE_KAFKA_HEARTBEAT_MS). A partition's offset is committed only up to
// the last message that was acked together with everything before it (OffsetTracker), on a short
// timer and once more on close. A rebalance makes kafkajs re-read every assigned partition from
// its committed offset, so all un-acked state is dropped then; those messages come again to
// whoever owns them now.
import * as Chunk from "effect/Chunk";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Runtime from "effect/Runtime";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import type { Consumer, Kafka } from "kafkajs";
import { BusError, type ConsumeOptions, type Delivery } from "../Bus.js";
import { defaults, type KafkaSettings } from "../BusConfig.js";
import { busMessage, errorText } from "./client.js";
import { OffsetTracker } from "./OffsetTracker.js";
import { checkTopic } from "../shard.js";
import { MAX_MESSAGE_BYTES, retryWhileTransient } from "./topics.js";

export const DEFAULT_MAX_IN_FLIGHT = 32;
/** Partitions whose fetched batches are handed on at the same time, interleaved by chunk. */
const PARTITIONS_IN_TURN = 8;

/** The Kafka group id of a Bus group on one topic (e.g. `sink.netpulse.flows.enriched`). */
export const kafkaGroupId = (group: string, topic: string): string => `${group}.${topic}`;
const COMMIT_EVERY = Duration.millis(100);
const HEARTBEAT_WHILE_BLOCKED_MS = 1_000;

/** Session timeout and heartbeat of the bus's consumers (NETPULSE_KAFKA_SESSION_TIMEOUT_MS, NETPULSE_KAFKA_HEARTBEAT_MS). */
export const groupTiming = (settings: Pick<KafkaSettings, "sessionTimeoutMs" | "heartbeatIntervalMs">) => {
  const sessionTimeout = settings.sessionTimeoutMs ?? defaults.kafkaSessionTimeoutMs;
  const heartbeatInterval = settings.heartbeatIntervalMs ?? Math.round(sessionTimeout / 10);
  // A member must rejoin within the rebalance timeout; never shorter than a session.
  return { sessionTimeout, heartbeatInterval, rebalanceTimeout: Math.max(30_000, sessionTimeout) };
};

/**
 * Deliveries go into the stream's queue as chunks: `chunks` queue places of up to `chunk` messages
 * each, so fetched-but-not-taken messages stay within maxInFlight (two chunks of half of it).
 */
export const inFlight = (maxInFlight: number): { readonly chunk: number; readonly chunks: number } => {
  const max = Math.max(1, Math.floor(maxInFlight));
  const chunk = Math.ceil(max / 2);
  return { chunk, chunks: Math.max(1, Math.floor(max / chunk)) };
};

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

export const kafkaConsume = (
  kafka: Kafka,
  topic: string,
  options: ConsumeOptions,
  timing: ReturnType<typeof groupTiming> = groupTiming({}),
): Stream.Stream<Delivery, BusError> => {
  const bound = inFlight(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  return Stream.asyncScoped<Delivery, BusError>(
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
        // While the stream is full, heartbeat at least as often as the group expects.
        const blockedBeat = Math.min(HEARTBEAT_WHILE_BLOCKED_MS, timing.heartbeatInterval);
        const consumer = yield* Effect.acquireRelease(
          Effect.suspend(() => {
            const c = kafka.consumer({
              groupId: kafkaGroupId(options.group, topic),
              ...timing,
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
        yield* retryWhileTransient(
          Effect.tryPromise({
            try: () => consumer.subscribe({ topic, fromBeginning: true }),
            catch: fail("subscribe failed"),
          }),
        );
        yield* Effect.tryPromise({
          try: () =>
            consumer.run({
              autoCommit: false,
              eachBatchAutoResolve: false,
              // Batches of several partitions in turn, chunk by chunk, instead of each fetched batch whole
              // (up to 32 MiB) before the next partition's: draining a backlog one partition far ahead of
              // the others moved the detector's event time past their flows (docs/detector.md, Time).
              // One partition's batch is still handed on in order by one call at a time.
              partitionsConsumedConcurrently: PARTITIONS_IN_TURN,
              eachBatch: async (payload) => {
                const { batch } = payload;
                const heartbeat = () => payload.heartbeat();
                const generation = joins;
                const { messages } = batch;
                // A chunk of deliveries per queue offer, not one message each: every offer runs a
                // fiber and a channel step, which cost more than the message itself (profile in bus.bench.ts).
                for (let i = 0; i < messages.length; i += bound.chunk) {
                  if (closing || !payload.isRunning() || payload.isStale() || generation !== joins) return;
                  const part = messages.slice(i, i + bound.chunk);
                  const deliveries = part.map((message): Delivery => {
                    const ticket = tracker.delivered(batch.partition, BigInt(message.offset));
                    return {
                      ...busMessage(topic, batch.partition, message),
                      ack: Effect.sync(() => void tracker.ack(ticket)),
                    };
                  });
                  const offered = emit.chunk(Chunk.unsafeFromArray(deliveries));
                  if (!(await offerPatiently(offered, () => closing, heartbeat, blockedBeat))) return;
                  payload.resolveOffset(part[part.length - 1]!.offset);
                }
                await heartbeat();
              },
            }),
          catch: fail("consumer run failed"),
        });
        yield* commit(consumer, tracker, topic).pipe(Effect.repeat(Schedule.spaced(COMMIT_EVERY)), Effect.forkScoped);
      }),
    { bufferSize: bound.chunks, strategy: "suspend" },
  );
};

/**
 * Wait until the queue took the element, heartbeating meanwhile so the group does not think we
 * died; false if the stream closed first (the element may never be taken then).
 */
export const offerPatiently = async (
  offered: Promise<void>,
  closed: () => boolean,
  heartbeat: () => Promise<void>,
  everyMs = HEARTBEAT_WHILE_BLOCKED_MS,
) => {
  const taken = offered.then(() => true);
  while (!(await Promise.race([taken, sleep(everyMs)]))) {
    if (closed()) return false;
    await heartbeat();
  }
  return true;
};

const sleep = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());
