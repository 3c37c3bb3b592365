// Key → partition for buses that shard by subject (NATS, memory). FNV-1a over the key's UTF-8
// bytes: stable across processes and versions, so one key always lands on one shard and stays
// ordered. Kafka uses its own murmur2 partitioner instead (see kafka/publish.ts).
import * as Effect from "effect/Effect";
import { BusError, type OutgoingMessage } from "./Bus.js";

const encoder = new TextEncoder();

export const fnv1a32 = (key: string): number => {
  // ASCII keys (IPs, namespace/workload names) hash char by char: no byte array per call.
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(key);
    hash ^= c;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

const fnv1a32Bytes = (key: string): number => {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

export const shardOf = (key: string, partitions: number): number => fnv1a32(key) % Math.max(1, partitions);

/** Topic names are dotted words; the same rule holds on both brokers so a name works on either. */
export const validTopic = (topic: string): boolean => /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(topic);

/** Fails `op` on a topic name neither broker would take the same way. */
export const checkTopic = (op: string, topic: string): Effect.Effect<void, BusError> =>
  validTopic(topic)
    ? Effect.void
    : Effect.fail(
        new BusError({ op, topic, message: `invalid topic name "${topic}" (dotted words of A-Z a-z 0-9 _ -)` }),
      );

/** The error for a message whose explicit partition the topic does not have, if any. */
export const partitionOutOfRange = (
  topic: string,
  messages: ReadonlyArray<OutgoingMessage>,
  partitions: number,
): BusError | undefined => {
  const bad = messages.find((m) => m.partition !== undefined && !(m.partition >= 0 && m.partition < partitions));
  return bad === undefined
    ? undefined
    : new BusError({
        op: "publish",
        topic,
        message: `partition ${bad.partition} out of range: ${topic} has ${partitions}`,
      });
};
