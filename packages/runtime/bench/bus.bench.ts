// Bus throughput: 1000-record RawFlow Avro batches published and consumed (with acks) through our
// Bus on each broker, next to the raw client doing the same in the same run (nats.js js.publish
// with the same window + pull consume with ack; kafkajs producer.send + eachBatch consumer).
// Brokers from NETPULSE_NATS_URL / NETPULSE_KAFKA_BROKERS (`npm run bench:bus` starts them).
// Run: npx tsx packages/runtime/bench/bus.bench.ts [nats|kafka]
import { randomBytes } from "node:crypto";
import * as Effect from "effect/Effect";
import * as ManagedRuntime from "effect/ManagedRuntime";
import * as Stream from "effect/Stream";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { AckPolicy, connect, nanos, StorageType } from "nats";
import { Bus, type BusError } from "../src/bus/Bus.js";
import { KafkaBus } from "../src/bus/KafkaBus.js";
import { NatsBus } from "../src/bus/NatsBus.js";
import { RawFlowCodec } from "../src/codec/codecs.js";
import { variedFlow } from "../../../test/support/rawFlow.js";

const RECORDS_PER_BATCH = 1000;
// Per broker, so each run stays ~10-30 s on this hardware (Kafka moves ~1/4 of NATS's rate).
const BATCHES: Record<string, number> = {
  nats: Number(process.env["BENCH_BATCHES"] ?? 1500),
  kafka: Number(process.env["BENCH_BATCHES"] ?? 800),
};
const PER_PUBLISH = Number(process.env["BENCH_PER_PUBLISH"] ?? 20); // batches handed to one publish call
const PARTITIONS = 4;
const natsUrl = process.env["NETPULSE_NATS_URL"] ?? "nats://127.0.0.1:4222";
const kafkaBrokers = (process.env["NETPULSE_KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",");

const flow = variedFlow;

const payload = RawFlowCodec.encodeBatch(
  Array.from({ length: RECORDS_PER_BATCH }, (_, i) => flow(i)),
  { producer: "bench", sequence: 0n },
);
const messages = Array.from({ length: Math.max(...Object.values(BATCHES)) }, (_, i) => ({
  key: `10.1.${i % 64}.1|10.2.0.9`,
  value: payload,
}));
const topicName = (who: string) => `bench.${who}.${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
const recordsPerSec = (batches: number, ms: number) => (batches * RECORDS_PER_BATCH * 1000) / ms;

/** Our Bus: a publisher fiber and an acking consumer running together; time until all consumed. */
const viaBus = (runtime: ManagedRuntime.ManagedRuntime<Bus, BusError>, topic: string, batches: number) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision({ topic, partitions: PARTITIONS, retentionMs: 600_000, maxBytes: 2 ** 30 });
      const t0 = performance.now();
      const publisher = Effect.forEach(
        Array.from({ length: Math.ceil(batches / PER_PUBLISH) }, (_, i) =>
          messages.slice(i * PER_PUBLISH, (i + 1) * PER_PUBLISH),
        ),
        (chunk) => bus.publish(topic, chunk),
        { discard: true },
      );
      const consumer = bus.consume(topic, { group: "bench" }).pipe(
        Stream.mapEffect((d) => d.ack),
        Stream.take(batches),
        Stream.runDrain,
      );
      yield* Effect.all([publisher, consumer], { concurrency: 2, discard: true });
      return performance.now() - t0;
    }),
  );

const rawNats = async (topic: string, batches: number) => {
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const stream = topic.replace(/\./g, "_");
  await jsm.streams.add({
    name: stream,
    subjects: [`${topic}.>`],
    storage: StorageType.File,
    max_age: nanos(600_000),
    max_bytes: 2 ** 30,
  });
  // Timed from the consumer's creation, as the Bus's consume creates its durable inside the timing.
  const t0 = performance.now();
  await jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit });
  // Same call pattern as the Bus: PER_PUBLISH messages in flight, then wait for all their acks.
  const publish = (async () => {
    for (let i = 0; i < batches; i += PER_PUBLISH)
      await Promise.all(
        messages.slice(i, i + PER_PUBLISH).map((m, j) => js.publish(`${topic}.${(i + j) % PARTITIONS}`, m.value)),
      );
  })();
  const consumer = await js.consumers.get(stream, "bench");
  const iter = await consumer.consume({ max_messages: 32 });
  let n = 0;
  for await (const m of iter) {
    m.ack();
    if (++n === batches) break;
  }
  iter.stop();
  await publish;
  const ms = performance.now() - t0;
  await jsm.streams.delete(stream);
  await nc.drain();
  return ms;
};

const kafkaClient = () => new Kafka({ clientId: "netpulse-bench", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });

const rawKafka = async (topic: string, batches: number) => {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: PARTITIONS, configEntries: [{ name: "max.message.bytes", value: String(32 * 2 ** 20) }] },
    ],
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const consumer = kafka.consumer({
    groupId: `bench-${topic}`,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 32 * 2 ** 20,
  });
  await producer.connect();
  let n = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  // Timed from the consumer's connect, as the Bus's consume opens its consumer inside the timing.
  const t0 = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      n += batch.messages.length;
      if (n >= batches) done();
      await Promise.resolve();
    },
  });
  for (let i = 0; i < batches; i += PER_PUBLISH)
    await producer.send({
      topic,
      acks: -1,
      messages: messages.slice(i, i + PER_PUBLISH).map((m) => ({ key: m.key, value: m.value })),
    });
  await all;
  const ms = performance.now() - t0;
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return ms;
};

const dropKafkaTopic = async (topic: string) => {
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
};

const dropNatsStream = async (topic: string) => {
  const nc = await connect({ servers: natsUrl });
  await (await nc.jetstreamManager()).streams.delete(topic.replace(/\./g, "_")).catch(() => undefined);
  await nc.drain();
};

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const rows: Array<[string, number, number]> = [];
const which = process.argv[2];
const brokers = [
  { name: "nats", raw: rawNats, layer: () => NatsBus.layer({ _tag: "nats", url: natsUrl }), drop: dropNatsStream },
  {
    name: "kafka",
    raw: rawKafka,
    layer: () => KafkaBus.layer({ _tag: "kafka", brokers: kafkaBrokers, clientId: "netpulse-bench" }),
    drop: dropKafkaTopic,
  },
].filter((b) => which === undefined || b.name === which);

console.log(
  `bus bench: ${RECORDS_PER_BATCH}-record batches (${(payload.length / 1024).toFixed(0)} KiB each), ${PARTITIONS} partitions, ${PER_PUBLISH} batches per publish call, best of ${ROUNDS}`,
);
for (const b of brokers) {
  const n = BATCHES[b.name] ?? 500;
  const runtime = ManagedRuntime.make(b.layer());
  let raw = 0;
  let ours = 0;
  // Alternate raw and ours so drift (page cache, JIT, broker GC) hits both alike.
  const used: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw = Math.max(raw, recordsPerSec(n, await b.raw(topicName(`raw-${b.name}`), n)));
    const topic = topicName(`bus-${b.name}`);
    used.push(topic);
    ours = Math.max(ours, recordsPerSec(n, await viaBus(runtime, topic, n)));
  }
  await runtime.dispose();
  // Only now: kafkajs' producer keeps refreshing metadata of every topic it wrote to, deleted or not.
  for (const topic of used) await b.drop(topic);
  rows.push([`${b.name} (${n} batches)`, raw, ours]);
}
console.log("bus                    raw client rec/s   netpulse Bus rec/s   ratio (goal >= 0.8)");
for (const [name, raw, ours] of rows)
  console.log(
    `${name.padEnd(22)} ${Math.round(raw).toLocaleString().padStart(16)} ${Math.round(ours).toLocaleString().padStart(20)}   ${(ours / raw).toFixed(2)}`,
  );
