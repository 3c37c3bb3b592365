// Kafka side of provisioning and publishing. Topics are created with retention and a message size
// limit that fits a whole batch per partition (kafkajs writes one record batch per partition per
// request and never splits it). Publishing sends in chunks of bounded bytes with acks from all
// replicas, keys as given.
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import { Partitioners, type Admin, type Message, type Producer } from "kafkajs";
import { BusError, type OutgoingMessage, type TopicSpec } from "../Bus.js";
import { checkTopic } from "../shard.js";
import { errorText } from "./client.js";

/** Largest record batch a topic accepts; bounds one publish chunk too. */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
const CHUNK_BYTES = 8 * 1024 * 1024;
const RETRY = Schedule.exponential("200 millis").pipe(Schedule.upTo("30 seconds"));

/**
 * What a broker that has just started answers while the new topic's metadata spreads (seen in CI:
 * "This server does not host this topic-partition" from createTopics' wait for leaders). Creating
 * or aligning a topic is idempotent, so provisioning simply runs again.
 */
const transient = (e: BusError): boolean =>
  (e.cause as { retriable?: unknown } | undefined)?.retriable === true ||
  /does not host this topic-partition|leader not available|not the leader|not the controller/i.test(e.message);

/**
 * Runs `effect` again while it fails with what a cluster answers while a topic's metadata spreads
 * (a broker that does not host the partition yet, a leader moving): on a 3-broker cluster a service
 * that subscribes to or replays a just-created topic got these at start and exited (docs/clusters.md).
 */
export const retryWhileTransient = <A, R>(effect: Effect.Effect<A, BusError, R>): Effect.Effect<A, BusError, R> =>
  effect.pipe(Effect.retry({ schedule: RETRY, while: transient }));

export const provisionTopic = (admin: Admin, spec: TopicSpec, replicas = 1) =>
  Effect.gen(function* () {
    yield* checkTopic("provision", spec.topic);
    const fail = (what: string) => (cause: unknown) =>
      new BusError({ op: "provision", topic: spec.topic, message: `${what}: ${errorText(cause)}`, cause });
    const configEntries = (replicationFactor: number) => [
      { name: "retention.ms", value: String(spec.retentionMs) },
      { name: "retention.bytes", value: String(spec.maxBytes !== undefined && spec.maxBytes > 0 ? spec.maxBytes : -1) },
      { name: "max.message.bytes", value: String(MAX_MESSAGE_BYTES) },
      { name: "message.timestamp.type", value: "CreateTime" },
      // 2 of 3: one broker may be down and an acked batch is still on two
      { name: "min.insync.replicas", value: String(Math.max(1, replicationFactor - 1)) },
    ];
    // createTopics answers false when the topic exists: then align its retention and partitions.
    const created = yield* Effect.tryPromise({
      try: () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: spec.topic,
              numPartitions: spec.partitions,
              replicationFactor: replicas,
              configEntries: configEntries(replicas),
            },
          ],
        }),
      catch: fail("create topic failed"),
    });
    if (created) return;
    const meta = yield* Effect.tryPromise({
      try: () => admin.fetchTopicMetadata({ topics: [spec.topic] }),
      catch: fail("topic metadata failed"),
    });
    const have = meta.topics[0]?.partitions.length ?? 0;
    // an existing topic keeps its replication factor (changing it is a reassignment, an operator's job)
    const factor = meta.topics[0]?.partitions[0]?.replicas.length ?? replicas;
    if (have > spec.partitions)
      return yield* new BusError({
        op: "provision",
        topic: spec.topic,
        message: `topic has ${have} partitions, asked for ${spec.partitions}; Kafka cannot shrink a topic`,
      });
    if (have < spec.partitions)
      yield* Effect.tryPromise({
        try: () => admin.createPartitions({ topicPartitions: [{ topic: spec.topic, count: spec.partitions }] }),
        catch: fail("adding partitions failed"),
      });
    yield* Effect.tryPromise({
      try: () =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: 2 /* TOPIC */, name: spec.topic, configEntries: configEntries(factor) }],
        }),
      catch: fail("alter topic config failed"),
    });
  }).pipe(retryWhileTransient);

const chunks = (messages: ReadonlyArray<OutgoingMessage>): Message[][] => {
  const out: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (current.length > 0 && bytes + m.value.byteLength > CHUNK_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    const value = Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength);
    current.push(m.partition === undefined ? { key: m.key, value } : { key: m.key, value, partition: m.partition });
    bytes += m.value.byteLength;
  }
  if (current.length > 0) out.push(current);
  return out;
};

/**
 * One chunk, sent until every partition it names has answered. Within one send kafkajs keeps one
 * answer per broker across its own retries: when a partition's leader dies mid-send and the
 * partition moves to a broker that already answered for other partitions of that send, kafkajs
 * resolves with that earlier answer and never sends the moved partition's messages (kafkajs issue
 * 1303; on the 3-broker cluster acked batches were missing from the log, test/clusters/). So the
 * answer is checked against the chunk's explicit partitions, and the messages of a partition it
 * lacks go again in a new send. Messages without a partition (kafkajs picks it) are not checked.
 */
const sendChunk = (producer: Producer, topic: string, chunk: Message[], attempt = 1): Effect.Effect<void, BusError> =>
  Effect.tryPromise({
    try: () => producer.send({ topic, acks: -1, messages: chunk }),
    catch: (cause) => new BusError({ op: "publish", topic, message: `publish failed: ${errorText(cause)}`, cause }),
  }).pipe(
    // kafkajs gives up on some retriable errors (a just-created topic's metadata not out yet);
    // another send may duplicate what the broker already took, never lose it.
    Effect.retry({
      schedule: RETRY,
      while: (e) => (e.cause as { retriable?: unknown } | undefined)?.retriable === true,
    }),
    Effect.flatMap((answers) => {
      const answered = new Set(answers.filter((a) => a.topicName === topic).map((a) => a.partition));
      const missing = chunk.filter((m) => m.partition !== undefined && !answered.has(m.partition));
      if (missing.length === 0) return Effect.void;
      const unanswered = [...new Set(missing.map((m) => m.partition))].join(",");
      if (attempt >= UNANSWERED_ATTEMPTS)
        return Effect.fail(
          new BusError({
            op: "publish",
            topic,
            message: `no answer for partitions ${unanswered} after ${attempt} sends`,
          }),
        );
      return Effect.logWarning(
        `kafka send answered without partitions ${unanswered}: sending their messages again`,
      ).pipe(
        Effect.zipRight(Effect.sleep("200 millis")),
        Effect.zipRight(sendChunk(producer, topic, missing, attempt + 1)),
      );
    }),
  );
const UNANSWERED_ATTEMPTS = 20;

/** The producer's own partitioner (murmur2 of the key), to name the partition of a keyed message before sending. */
const keyPartitioner = Partitioners.DefaultPartitioner();

/**
 * Sends every message with acks from all in-sync replicas. Given the topic's partition count, a
 * message without a partition gets the one the producer would pick, so its send is checked too.
 */
export const publishAll = (
  producer: Producer,
  topic: string,
  messages: ReadonlyArray<OutgoingMessage>,
  partitionCount?: number,
) => {
  const meta =
    partitionCount === undefined
      ? undefined
      : Array.from({ length: partitionCount }, (_, partitionId) => ({
          partitionId,
          leader: 0,
          partitionErrorCode: 0,
          replicas: [],
          isr: [],
        }));
  const named =
    meta === undefined
      ? messages
      : messages.map((m) =>
          m.partition !== undefined
            ? m
            : {
                ...m,
                partition: keyPartitioner({ topic, partitionMetadata: meta, message: { key: m.key, value: null } }),
              },
        );
  return Effect.forEach(chunks(named), (chunk) => sendChunk(producer, topic, chunk), { discard: true });
};

/** Partition counts per topic from the broker's metadata, asked once per topic. */
export const partitionCounts = (admin: Admin) => {
  const known = new Map<string, number>();
  return (topic: string): Effect.Effect<number, BusError> =>
    Effect.suspend(() => {
      const cached = known.get(topic);
      if (cached !== undefined) return Effect.succeed(cached);
      return Effect.tryPromise({
        try: () => admin.fetchTopicMetadata({ topics: [topic] }),
        catch: (cause) =>
          new BusError({ op: "partitions", topic, message: `topic metadata failed: ${errorText(cause)}`, cause }),
      }).pipe(
        Effect.map((meta) => {
          const n = meta.topics[0]?.partitions.length ?? 0;
          if (n > 0) known.set(topic, n);
          return n;
        }),
      );
    });
};
