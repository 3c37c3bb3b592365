// Waits until every broker of a Kafka cluster knows a topic and a leader for each of its
// partitions. A topic the bus has just created is known to the controller first and reaches each
// broker's metadata a moment later; a consumer that subscribes in that moment through a broker
// that has not caught up fails with "This server does not host this topic-partition", and a
// client that asks a partition's new leader too early gets "not the leader" — seen on the 3-broker
// cluster (docs/clusters.md, "what is not proven"). The bus retries neither at subscribe, so the
// cluster tests create topics the way a deployment does: first, and wait for them to spread.
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { Kafka, logLevel } from "kafkajs";
import { Bus, BusError } from "@netpulse/runtime/bus/Bus";

const knowsTopic = async (broker: string, topic: string): Promise<boolean> => {
  const admin = new Kafka({
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions ?? [];
    return partitions.length > 0 && partitions.every((p) => p.leader >= 0 && p.partitionErrorCode === 0);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
};

/** Until each of `brokers` reports `topic` with a leader per partition (fails after 30 s). */
export const spreadEverywhere = (brokers: ReadonlyArray<string>, topic: string): Effect.Effect<void, BusError> =>
  Effect.tryPromise({
    try: async () => {
      const end = Date.now() + 30_000;
      for (const broker of brokers) {
        while (!(await knowsTopic(broker, topic))) {
          if (Date.now() > end) throw new Error(`${broker} does not know ${topic} after 30 s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    catch: (cause) => new BusError({ op: "provision", topic, message: String(cause), cause }),
  });

/** The bus of `layer`, whose provision returns only once every broker knows the topic. */
export const provisionEverywhere = <E, R>(layer: Layer.Layer<Bus, E, R>, brokers: ReadonlyArray<string>) =>
  Layer.map(layer, (ctx) => {
    const bus = Context.get(ctx, Bus);
    return Context.make(Bus, {
      ...bus,
      provision: (spec) => bus.provision(spec).pipe(Effect.zipRight(spreadEverywhere(brokers, spec.topic))),
    });
  });
