// JetStream side of provisioning and publishing: one file-backed stream per topic with limits
// retention, and a publisher that keeps a bounded window of PubAcks in flight. Each message gets a
// Nats-Msg-Id fixed for the whole publish call, so retries after a timeout or a broker restart are
// dropped by the server's duplicate window instead of stored twice.
import { randomUUID } from "node:crypto";
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import {
  DiscardPolicy,
  headers,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from "nats";
import { BusError, type OutgoingMessage, type TopicSpec } from "../Bus.js";
import { checkTopic, partitionOutOfRange, shardOf } from "../shard.js";
import { allShards, describeStream, KEY_HEADER, partitionsFromDescription, shardSubject, streamName } from "./names.js";

/** PubAcks awaited at once (MEASURED: ~100 in flight saturates the server). */
export const PUBLISH_WINDOW = 128;
/** Server-side duplicate window; must not exceed the stream's max_age. */
const DUPLICATE_WINDOW_MS = 120_000;
/**
 * How long one PubAck is awaited before the message is sent again (same msg id, so the server drops
 * a copy it already stored). On a 3-node cluster a publish sent to a leader that just died waits this
 * out before the retry reaches the new leader: 10 s made that the longest stall (docs/clusters.md).
 */
const PUBLISH_TIMEOUT_MS = 5_000;

export const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

const isNotFound = (cause: unknown) => /not found/i.test(cause instanceof Error ? cause.message : String(cause));

export const provisionStream = (jsm: JetStreamManager, spec: TopicSpec, replicas = 1) =>
  Effect.gen(function* () {
    yield* checkTopic("provision", spec.topic);
    const name = streamName(spec.topic);
    const fail = (message: string) => (cause: unknown) =>
      new BusError({ op: "provision", topic: spec.topic, message, cause });
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      description: describeStream(spec.topic, spec.partitions),
      subjects: [allShards(spec.topic)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(spec.retentionMs),
      max_bytes: spec.maxBytes !== undefined && spec.maxBytes > 0 ? spec.maxBytes : -1,
      duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, spec.retentionMs)),
      num_replicas: replicas,
    };
    const existing = yield* Effect.tryPromise({ try: () => jsm.streams.info(name), catch: (e) => e }).pipe(
      Effect.map((info) => info.config),
      Effect.catchAll((e) => (isNotFound(e) ? Effect.succeed(undefined) : Effect.fail(fail("stream info failed")(e)))),
    );
    if (existing === undefined) {
      yield* Effect.tryPromise({ try: () => jsm.streams.add(config), catch: fail("stream create failed") });
      return;
    }
    const had = partitionsFromDescription(existing.description);
    if (had !== undefined && had !== spec.partitions)
      return yield* new BusError({
        op: "provision",
        topic: spec.topic,
        message: `stream ${name} has ${had} shards, asked for ${spec.partitions}; changing it would reorder keys`,
      });
    if (
      existing.max_age !== config.max_age ||
      existing.max_bytes !== config.max_bytes ||
      existing.num_replicas !== config.num_replicas
    )
      yield* Effect.tryPromise({
        try: () => jsm.streams.update(name, { ...existing, ...config }),
        catch: fail("stream update failed"),
      });
  });

/** Shard count per topic, read from the stream once per bus instance. */
export const shardCounts = (jsm: JetStreamManager) => {
  const known = new Map<string, number>();
  return (topic: string) =>
    Effect.suspend(() => {
      const cached = known.get(topic);
      if (cached !== undefined) return Effect.succeed(cached);
      return Effect.tryPromise({
        try: () => jsm.streams.info(streamName(topic)),
        catch: (cause) =>
          new BusError({
            op: "publish",
            topic,
            message: isNotFound(cause) ? `topic ${topic} is not provisioned` : "stream info failed",
            cause,
          }),
      }).pipe(
        Effect.map((info) => {
          const n = partitionsFromDescription(info.config.description) ?? 1;
          known.set(topic, n);
          return n;
        }),
      );
    });
};

/** Timeouts, "no responders" while JetStream restarts, a dropped connection: worth another try. */
export const transient = (cause: unknown): boolean => {
  const code = (cause as { code?: unknown }).code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return (
    code === "TIMEOUT" ||
    code === "503" ||
    code === "DISCONNECT" ||
    /timeout|no responders|disconnect|reconnect/i.test(text)
  );
};

export const retryTransient = Schedule.exponential("100 millis", 2).pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.upTo("60 seconds"),
);

interface Outgoing {
  readonly subject: string;
  readonly msgID: string;
  readonly key: string;
  readonly value: Uint8Array;
}

/**
 * Plain promise code on purpose: one Effect fiber per message made publishing ~40 % slower here
 * (each resumption goes through the scheduler). Never rejects; returns what failed and why.
 */
const publishWindow = async (js: JetStreamClient, items: ReadonlyArray<Outgoing>) => {
  const failed: Array<{ item: Outgoing; cause: unknown }> = [];
  const inFlight = new Set<Promise<void>>();
  for (const item of items) {
    const h = headers();
    h.set(KEY_HEADER, item.key);
    const p: Promise<void> = js
      .publish(item.subject, item.value, { headers: h, msgID: item.msgID, timeout: PUBLISH_TIMEOUT_MS })
      .then(
        () => undefined,
        (cause: unknown) => void failed.push({ item, cause }),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= PUBLISH_WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return failed;
};

export const publishAll = (
  js: JetStreamClient,
  partitionsOf: (topic: string) => Effect.Effect<number, BusError>,
  topic: string,
  messages: ReadonlyArray<OutgoingMessage>,
) =>
  Effect.gen(function* () {
    if (messages.length === 0) return;
    const partitions = yield* partitionsOf(topic);
    const outOfRange = partitionOutOfRange(topic, messages, partitions);
    if (outOfRange !== undefined) return yield* outOfRange;
    const callId = randomUUID();
    let pending: ReadonlyArray<Outgoing> = messages.map((m, i) => ({
      subject: shardSubject(topic, m.partition ?? shardOf(m.key, partitions)),
      msgID: `${callId}:${i}`,
      key: m.key,
      value: m.value,
    }));
    // Only what failed is sent again, with its msg id, so the server drops any copy it already has.
    const attempt = Effect.gen(function* () {
      const failed = yield* Effect.promise(() => publishWindow(js, pending));
      pending = failed.map((f) => f.item);
      const first = failed[0];
      if (first !== undefined)
        return yield* new BusError({
          op: "publish",
          topic,
          message: `${failed.length} of ${messages.length} publishes to ${topic} failed: ${errorText(first.cause)}`,
          cause: first.cause,
        });
    });
    yield* attempt.pipe(Effect.retry({ schedule: retryTransient, while: (e) => transient(e.cause) }));
  });
