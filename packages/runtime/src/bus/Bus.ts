// The one bus interface every stage uses; NATS JetStream and Kafka implement it (NatsBus.ts,
// KafkaBus.ts) and one contract suite (test/bus-contract.test.ts) holds both to it.
// A bus message always carries a whole batch (see schemas/batch.v1.avsc), never one record.
import * as Context from "effect/Context";
import * as Data from "effect/Data";
import type * as Effect from "effect/Effect";
import type * as Stream from "effect/Stream";

/** Everything that can go wrong talking to a broker. `op` names the call, `cause` keeps the client's error. */
export class BusError extends Data.TaggedError("BusError")<{
  readonly op: string;
  readonly topic?: string;
  readonly message: string;
  readonly cause?: unknown;
}> {}

export interface TopicSpec {
  readonly topic: string;
  /** Kafka partitions / NATS subject shards. Keys hash onto them; per-key order holds within one. */
  readonly partitions: number;
  /** How long the broker keeps messages; replay reaches back this far. */
  readonly retentionMs: number;
  /** Upper bound on stored bytes (0 = broker default). */
  readonly maxBytes?: number;
}

export interface OutgoingMessage {
  /** Routing key; for flows the sorted IP pair, so both directions of a conversation stay ordered together. */
  readonly key: string;
  readonly value: Uint8Array;
  /**
   * Explicit partition, 0 ≤ p < partitions(topic). A batch holds records of many keys: producers
   * group records by `partitionOf(key, n)` (bus/partitionGroups.ts) and send each group to its
   * partition, so every key still lands on one partition while messages stay large.
   */
  readonly partition?: number;
}

export interface BusMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly partition: number;
  /** Kafka offset or JetStream stream sequence, as decimal text. */
  readonly offset: string;
  /** Broker timestamp, ms since the epoch. */
  readonly timestampMs: number;
}

/**
 * A consumed message. The broker forgets it only after `ack`; without an ack it is redelivered
 * (NATS: after ack_wait, or soon after the consuming stream closes; Kafka: to whoever owns the
 * partition after the next restart or rebalance, since Kafka commits a per-partition watermark).
 * Ack while the stream that delivered it is still running; later acks are ignored.
 */
export interface Delivery extends BusMessage {
  readonly ack: Effect.Effect<void, BusError>;
}

export interface ConsumeOptions {
  /**
   * Consumer group: members of one group share the topic's work, each message goes to one member.
   * A new group starts at the oldest message the broker still holds. Groups are per topic: one
   * name used on several topics is an independent group on each (JetStream durable per stream,
   * Kafka group id `<group>.<topic>`).
   */
  readonly group: string;
  /** Bound on messages fetched but not yet handed on; the stream back-pressures beyond it. */
  readonly maxInFlight?: number;
  /** Redelivery delay for a message not acked in time (NATS ack_wait; Kafka has no per-message timer and ignores it). */
  readonly ackWaitMs?: number;
  /**
   * Only these partitions, each kept whole by this member (members given disjoint sets split the
   * topic with partition affinity). NATS: a durable per (group, shard), since JetStream hands a
   * shared durable's messages to any member. Kafka's group protocol already assigns whole
   * partitions to members, so Kafka ignores it, and so does the in-memory bus.
   */
  readonly partitions?: ReadonlyArray<number>;
}

export type ReplayFrom =
  | { readonly _tag: "Time"; readonly fromMs: number; readonly toMs?: number }
  /** From `offset` on `partition` only (NATS: the stream sequence, filtered to that shard's subject). */
  | { readonly _tag: "Offset"; readonly partition: number; readonly offset: string; readonly toMs?: number };

export interface BusShape {
  readonly kind: "nats" | "kafka" | "memory";
  /** Create the stream/topic if missing (idempotent), with retention. */
  readonly provision: (spec: TopicSpec) => Effect.Effect<void, BusError>;
  /** Partitions (Kafka) or subject shards (NATS) of a provisioned topic. */
  readonly partitions: (topic: string) => Effect.Effect<number, BusError>;
  /** Publish messages and wait until the broker has durably accepted every one. */
  readonly publish: (topic: string, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, BusError>;
  /** Bounded stream of deliveries for a consumer group. Ends only on error or interruption. */
  readonly consume: (topic: string, options: ConsumeOptions) => Stream.Stream<Delivery, BusError>;
  /** Read history without a group and without acks; ends when it reaches `toMs` or the end of the topic at start. */
  readonly replay: (topic: string, from: ReplayFrom) => Stream.Stream<BusMessage, BusError>;
}

export class Bus extends Context.Tag("netpulse/Bus")<Bus, BusShape>() {}
