// Publishes RawFlow batches to netpulse.flows.raw: one bus message per partition present in the
// batch. Records are grouped by the partition their sorted IP pair hashes to, so a message stays
// large (never one per flow or per pair) and both directions of a conversation share a partition.
// The message key is its first record's pair: every record in it hashes where that key does.
import * as Effect from "effect/Effect";
import { Bus, type BusError, type OutgoingMessage } from "@netpulse/runtime/bus/Bus";
import { groupByPartition } from "@netpulse/runtime/bus/partitionGroups";
import { RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { flowKey } from "@netpulse/runtime/flowKey";
import type { RawFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";

export const pairKey = (f: RawFlow): string => flowKey(f.src_ip, f.dst_ip);

/**
 * The two halves of publishing, with the producer's own batch sequence (for gap detection
 * downstream): `encode` turns flows into bus messages, `send` publishes them. Apart, a caller can
 * hold encoded batches while the bus is slow: Avro bytes (~140 B a flow) take a fraction of the
 * memory of the RawFlow objects (~1 KB each on the heap).
 */
export const makeFlowEncoder = (producer: string) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    let sequence = 0n;
    const encode = (flows: ReadonlyArray<RawFlow>): Effect.Effect<OutgoingMessage[], BusError> =>
      Effect.map(bus.partitions(Topics.flowsRaw), (partitions) => {
        const messages: OutgoingMessage[] = [];
        for (const [partition, group] of groupByPartition(flows, pairKey, partitions)) {
          sequence += 1n;
          const key = pairKey(group[0] as RawFlow);
          messages.push({ key, partition, value: RawFlowCodec.encodeBatch(group, { producer, sequence }) });
        }
        return messages;
      });
    const send = (messages: ReadonlyArray<OutgoingMessage>): Effect.Effect<void, BusError> =>
      bus.publish(Topics.flowsRaw, messages);
    return { encode, send };
  });

/** A publisher with its own batch sequence (per producer, for gap detection downstream). */
export const makeFlowPublisher = (producer: string) =>
  Effect.map(
    makeFlowEncoder(producer),
    ({ encode, send }) =>
      (flows: ReadonlyArray<RawFlow>): Effect.Effect<void, BusError> =>
        Effect.flatMap(encode(flows), send),
  );
