// Publishes RawFlow batches to netpulse.flows.raw: one bus message per sorted IP pair present in
// the batch (the key decides the partition, and Kafka and NATS hash keys differently, so records
// are grouped by their exact key rather than by a guessed partition).
import { Effect } from "effect";
import { Bus, type BusError, type OutgoingMessage } from "@netpulse/runtime/bus/Bus";
import { RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { flowKey } from "@netpulse/runtime/flowKey";
import type { RawFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";

export const groupByKey = (flows: ReadonlyArray<RawFlow>): Map<string, RawFlow[]> => {
  const groups = new Map<string, RawFlow[]>();
  for (const f of flows) {
    const key = flowKey(f.src_ip, f.dst_ip);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [f]);
    else group.push(f);
  }
  return groups;
};

/** A publisher with its own batch sequence (per producer, for gap detection downstream). */
export const makeFlowPublisher = (producer: string) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    let sequence = 0n;
    return (flows: ReadonlyArray<RawFlow>): Effect.Effect<void, BusError> =>
      Effect.suspend(() => {
        const messages: OutgoingMessage[] = [];
        for (const [key, group] of groupByKey(flows)) {
          sequence += 1n;
          messages.push({ key, value: RawFlowCodec.encodeBatch(group, { producer, sequence }) });
        }
        return bus.publish(Topics.flowsRaw, messages);
      });
  });
