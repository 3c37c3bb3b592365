// The Bus over Kafka with kafkajs, kept behind the Bus interface so the client could be swapped.
// One admin and one producer per layer; each consume or replay stream opens its own consumer.
// Provisioning and publishing: kafka/topics.ts; group consumption: kafka/consume.ts; replay:
// kafka/replay.ts.
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { Bus, type BusError, type BusShape } from "./Bus.js";
import { describeSettings, type KafkaSettings } from "./BusConfig.js";
import { connectAdmin, connectProducer, makeKafka } from "./kafka/client.js";
import { groupTiming, kafkaConsume } from "./kafka/consume.js";
import { kafkaReplay } from "./kafka/replay.js";
import { partitionCounts, provisionTopic, publishAll } from "./kafka/topics.js";
import { checkTopic, partitionOutOfRange } from "./shard.js";

const make = (settings: KafkaSettings) =>
  Effect.gen(function* () {
    const kafka = yield* makeKafka(settings);
    const admin = yield* connectAdmin(kafka, settings);
    const producer = yield* connectProducer(kafka, settings);
    yield* Effect.logInfo(`bus connected: ${describeSettings(settings)}`);
    const partitions = partitionCounts(admin);
    const timing = groupTiming(settings);
    const bus: BusShape = {
      kind: "kafka",
      provision: Effect.fn("KafkaBus.provision")(function* (spec) {
        yield* provisionTopic(admin, spec, settings.replicas);
      }),
      partitions,
      publish: Effect.fn("KafkaBus.publish")(function* (topic, messages) {
        yield* checkTopic("publish", topic);
        if (messages.length === 0) return;
        const explicit = messages.some((m) => m.partition !== undefined);
        // With the count known, keyed messages get their partition named before the send, so a send
        // kafkajs answers without some partition is caught for them too (kafka/topics.ts sendChunk).
        const n = explicit ? yield* partitions(topic) : yield* Effect.orElseSucceed(partitions(topic), () => 0);
        if (explicit) {
          const outOfRange = partitionOutOfRange(topic, messages, n);
          if (outOfRange !== undefined) return yield* outOfRange;
        }
        yield* publishAll(producer, topic, messages, n > 0 ? n : undefined);
      }),
      consume: (topic, options) => kafkaConsume(kafka, topic, options, timing),
      replay: (topic, from) => kafkaReplay(kafka, admin, topic, from),
    };
    return bus;
  });

export const KafkaBus = {
  make,
  /** A Bus on Kafka with explicit settings (tests, tools); services use BusLive. */
  layer: (settings: KafkaSettings): Layer.Layer<Bus, BusError> => Layer.scoped(Bus, make(settings)),
};
