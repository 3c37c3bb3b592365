// A tiny in-memory Bus for the sink's unit tests: consume hands out whatever the test offers,
// acks are recorded, publishes are kept per topic. (Real NATS is used in the end-to-end tests.)
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Queue from "effect/Queue";
import * as Stream from "effect/Stream";
import { Bus, type BusMessage, type Delivery, type OutgoingMessage } from "@netpulse/runtime/bus/Bus";

export interface FakeBus {
  readonly layer: Layer.Layer<Bus>;
  readonly offer: (topic: string, value: Buffer, offset: string) => void;
  readonly acked: string[];
  readonly published: Map<string, OutgoingMessage[]>;
}

/** `capacity`: messages a topic can hold before `offer` throws (tests offer a few; the bench all). */
export const makeFakeBus = (capacity = 1000): FakeBus => {
  const queues = new Map<string, Queue.Queue<Delivery>>();
  const queueOf = (topic: string) => {
    let q = queues.get(topic);
    if (q === undefined) {
      q = Effect.runSync(Queue.bounded<Delivery>(capacity));
      queues.set(topic, q);
    }
    return q;
  };
  const acked: string[] = [];
  const published = new Map<string, OutgoingMessage[]>();
  const offer = (topic: string, value: Buffer, offset: string) => {
    const msg: BusMessage = { topic, key: "k", value, partition: 0, offset, timestampMs: Date.now() };
    const delivery: Delivery = { ...msg, ack: Effect.sync(() => void acked.push(`${topic}@${offset}`)) };
    Effect.runSync(Queue.offer(queueOf(topic), delivery));
  };
  const layer = Layer.succeed(Bus, {
    kind: "nats",
    partitions: () => Effect.succeed(1),
    provision: () => Effect.void,
    publish: (topic, messages) =>
      Effect.sync(() => {
        published.set(topic, [...(published.get(topic) ?? []), ...messages]);
      }),
    consume: (topic) => Stream.fromQueue(queueOf(topic)),
    replay: () => Stream.empty,
  });
  return { layer, offer, acked, published };
};
