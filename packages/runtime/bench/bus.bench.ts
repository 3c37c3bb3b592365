// Bus throughput: 1000-record RawFlow Avro batches published and consumed (with acks) through our
// Bus on each broker, next to the raw client doing the same in the same run (nats.js js.publish
// with the same window + pull consume with ack; kafkajs producer.send + eachBatch consumer).
// Brokers from NETPULSE_NATS_URL / NETPULSE_KAFKA_BROKERS (`npm run bench:bus` starts them).
// Run: node --expose-gc --import tsx packages/runtime/bench/bus.bench.ts [nats|kafka]
// Figures: bench/results/bus.json (kafka_bus_vs_kafkajs = the lower of publish and consume, goal >= 0.8).
//
// Kafka, what was found (2026-12-03, 2 vCPUs shared with other work, load 13-32; 800 batches, 5 rounds):
// - The earlier 0.65-0.73 mixed two things. The old bench timed publish and consume together and
//   stopped the Bus's clock only after its stream closed (final commit, leaving the group, waiting
//   out a 500 ms fetch), raw's before its disconnect. Now: each direction alone, both timed to the
//   N-th message, same producer/consumer settings, topics provisioned alike, raw-Bus-raw per round.
// - Publish: the Bus adds nothing measurable. --cpu-prof of Bus and raw publishing look the same:
//   kafkajs's JS crc32C ~18 %, its encoder's buffer growth (FastBuffer + copy) ~25 %, GC ~19 %;
//   Effect frames < 1 %. Ratio 0.90 before and 0.91 after, inside the A/A spread.
// - Consume: the Bus cost 1.47-1.67x raw's CPU per batch. Every message was a separate queue offer
//   (Stream.asyncScoped's emit runs a fiber per offer, plus a channel step downstream), ~300 us a
//   message on this machine, while the kafkajs fetch loop waits for eachBatch to hand everything
//   over. kafka/consume.ts now offers chunks of up to maxInFlight/2 (two chunks queued, the
//   bound unchanged): CPU 1.04x raw, consume ratio 0.66 -> 1.17 (A/A 0.66..1.14). Replay does the same.
//   Downstream, acking one delivery at a time (Stream.mapEffect, as runStage does) measured the same
//   CPU as a chunk at a time (Stream.runForEachChunk, used here) within noise: the cost was the offers.
// - This bench as committed (1600 batches, publish interleaved, consume order turned), 11:40, load 8-17:
//   publish 0.91 (kafkajs 509 k rec/s, Bus 464 k; A/A 0.94..1.05; Bus CPU 1.10x), consume 0.98
//   (1.97 M vs 1.83 M; A/A 0.65..2.20; CPU 1.10x); the run before it 0.93 / 1.11 (CPU 1.04x / 1.00x).
//   The publish CPU residue (+4-10 %) was not located: the Bus's producer sending directly and through
//   publishAll, interleaved in one process, measured +8 % in one run and 0 % in the next.
// NATS (publish and consume together) had the same clock bias: the Bus is now timed to its last ack
// and its last publish, not past the stream's close. Its ratio swings 0.56-1.37 from run to run here
// (best of rounds, publish and consume competing for 2 cores); the NATS bus already hands over chunks.
import { randomBytes } from "node:crypto";
import * as Effect from "effect/Effect";
import * as ManagedRuntime from "effect/ManagedRuntime";
import * as Stream from "effect/Stream";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { AckPolicy, connect, nanos, StorageType } from "nats";
import { Bus, type BusError, type Delivery } from "../src/bus/Bus.js";
import { KafkaBus } from "../src/bus/KafkaBus.js";
import { NatsBus } from "../src/bus/NatsBus.js";
import { RawFlowCodec } from "../src/codec/codecs.js";
import { MAX_MESSAGE_BYTES } from "../src/bus/kafka/topics.js";
import { variedFlow } from "../../../test/support/rawFlow.js";
import { writeResults } from "../../../bench/results.js";

const RECORDS_PER_BATCH = 1000;
// Per broker. Kafka: 1600 (190 MiB) so that a consumer's group join (0.1-0.4 s here) is a small part of its run.
const BATCHES: Record<string, number> = {
  nats: Number(process.env["BENCH_BATCHES"] ?? 1500),
  kafka: Number(process.env["BENCH_BATCHES"] ?? 1600),
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

/**
 * Takes `n` deliveries and acks each, a chunk at a time as the Bus hands them over (raw counts a
 * batch at a time); `last` runs at the n-th ack, so the time excludes closing the stream.
 */
const ackEach = <E, R>(deliveries: Stream.Stream<Delivery, E, R>, n: number, last: () => void) => {
  let acked = 0;
  return deliveries.pipe(
    Stream.take(n),
    Stream.runForEachChunk((chunk) =>
      Effect.forEach(
        chunk,
        (d) =>
          Effect.zipLeft(
            d.ack,
            Effect.sync(() => ++acked === n && last()),
          ),
        {
          discard: true,
        },
      ),
    ),
  );
};

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
      // Timed to the last ack, as raw is timed to its last message (closing the stream comes after).
      let ms = 0;
      const consumer = ackEach(bus.consume(topic, { group: "bench" }), batches, () => (ms = performance.now() - t0));
      let publishedMs = 0;
      const published = Effect.tap(publisher, () => Effect.sync(() => (publishedMs = performance.now() - t0)));
      yield* Effect.all([published, consumer], { concurrency: 2, discard: true });
      return Math.max(ms, publishedMs);
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

// Kafka is measured per direction, each side alone, so neither hides behind the other:
//  publish — N batches, PER_PUBLISH per call, each call awaited (acks=-1, idempotent, one request in
//            flight, key → murmur2 partition, no compression): the Bus's producer settings (kafka/client.ts);
//            raw, Bus and raw' take turns call by call;
//  consume — the same N batches from a topic already holding them, from the consumer's creation (connect
//            and group join included, for both) to the N-th message, offsets committed after processing
//            (raw: kafkajs' eachBatch auto-resolve + auto-commit; Bus: ack per delivery, OffsetTracker).
// Every round runs raw, Bus, raw' (A/B/A') on topics provisioned alike by Bus.provision (consume one
// after the other, in an order turned each round); A'/A is the A/A spread, the noise floor the ratio must be read against.
/** One measured run: wall time, and this process's CPU time meanwhile (all threads: JS, GC, I/O). */
interface Run {
  readonly ms: number;
  readonly cpuMs: number;
}
type Trio = [Run, Run, Run];
type KafkaRound = { publish: Trio; consume: Trio };

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// The previous run's garbage is collected before the clock starts (bench.sh runs node --expose-gc), so
// no run pays for the one before it.
const gc = (globalThis as { gc?: () => void }).gc;
const started = () => {
  gc?.();
  return { t: performance.now(), cpu: cpuMs() };
};
const stopped = (s: { t: number; cpu: number }): Run => ({ ms: performance.now() - s.t, cpuMs: cpuMs() - s.cpu });

const rawProducer = (kafka: Kafka) =>
  kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });

const rawKafkaSend = (producer: Producer, topic: string, slice: ReadonlyArray<(typeof messages)[number]>) =>
  producer.send({ topic, acks: -1, messages: slice.map((m) => ({ key: m.key, value: m.value })) });

/**
 * Publish interleaved call by call (raw A, Bus, raw A', PER_PUBLISH batches each, to their own
 * topics), each call's wall and CPU time added to its side: a load swing on this shared machine
 * hits all three alike instead of whichever ran during it.
 */
const kafkaPublishInterleaved = async (
  runtime: ManagedRuntime.ManagedRuntime<Bus, BusError>,
  producer: Producer,
  topics: readonly [string, string, string],
  batches: number,
): Promise<Trio> => {
  const sums = [0, 1, 2].map(() => ({ ms: 0, cpuMs: 0 }));
  const add = (k: number, r: Run) => {
    sums[k]!.ms += r.ms;
    sums[k]!.cpuMs += r.cpuMs;
  };
  gc?.();
  for (let i = 0; i < batches; i += PER_PUBLISH) {
    const slice = messages.slice(i, Math.min(i + PER_PUBLISH, batches));
    let t = { t: performance.now(), cpu: cpuMs() };
    await rawKafkaSend(producer, topics[0], slice);
    add(0, stopped(t));
    t = { t: performance.now(), cpu: cpuMs() };
    await runtime.runPromise(Effect.flatMap(Bus, (bus) => bus.publish(topics[1], slice)));
    add(1, stopped(t));
    t = { t: performance.now(), cpu: cpuMs() };
    await rawKafkaSend(producer, topics[2], slice);
    add(2, stopped(t));
  }
  return [sums[0]!, sums[1]!, sums[2]!];
};

const rawKafkaConsume = async (kafka: Kafka, topic: string, batches: number) => {
  // The Bus's consumer settings (kafka/consume.ts).
  const consumer = kafka.consumer({
    groupId: `bench-raw.${topic}`,
    sessionTimeout: 30_000,
    rebalanceTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: MAX_MESSAGE_BYTES,
  });
  const seen = new Set<string>();
  let done!: (run: Run) => void;
  const all = new Promise<Run>((resolve) => (done = resolve));
  const s = started();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value !== null) seen.add(`${batch.partition}:${m.offset}`);
      if (seen.size === batches) done(stopped(s));
      await Promise.resolve();
    },
  });
  const run = await all;
  await consumer.disconnect();
  return run;
};

const busKafkaConsume = (runtime: ManagedRuntime.ManagedRuntime<Bus, BusError>, topic: string, batches: number) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const bus = yield* Bus;
      let run: Run | undefined;
      const s = started();
      // Timed to the N-th ack, as raw is timed to its N-th message: closing the stream (final commit,
      // leaving the group) comes after, as raw's disconnect does.
      yield* ackEach(bus.consume(topic, { group: "bench-bus" }), batches, () => (run = stopped(s)));
      return run ?? stopped(s);
    }),
  );

const kafkaRound = async (
  runtime: ManagedRuntime.ManagedRuntime<Bus, BusError>,
  n: number,
  round: number,
): Promise<KafkaRound> => {
  const kafka = kafkaClient();
  const producer = rawProducer(kafka);
  await producer.connect();
  const topics = [topicName("raw-a"), topicName("bus"), topicName("raw-b")] as const;
  await runtime.runPromise(
    Effect.flatMap(Bus, (bus) =>
      Effect.forEach(topics, (topic) =>
        bus.provision({ topic, partitions: PARTITIONS, retentionMs: 600_000, maxBytes: 2 ** 30 }),
      ),
    ),
  );
  kafkaTopics.push(...topics);
  const publish = await kafkaPublishInterleaved(runtime, producer, topics, n);
  await producer.disconnect();
  // Consumers one after the other, the order turned by one place each round: whichever slot is
  // slow (seen: the first consumer of a round) is not always the same side's.
  const runs: Array<() => Promise<Run>> = [
    () => rawKafkaConsume(kafka, topics[0], n),
    () => busKafkaConsume(runtime, topics[1], n),
    () => rawKafkaConsume(kafka, topics[2], n),
  ];
  const consumed: Run[] = [];
  for (let i = 0; i < 3; i++) {
    const k = (i + round) % 3;
    consumed[k] = await runs[k]!();
  }
  return { publish, consume: [consumed[0]!, consumed[1]!, consumed[2]!] };
};
const kafkaTopics: string[] = [];

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

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const which = process.argv[2];
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (x: number) => Math.round(x).toLocaleString().padStart(14);
const figures: Record<string, unknown> = {};
const raw: Record<string, unknown> = {
  recordsPerBatch: RECORDS_PER_BATCH,
  batchBytes: payload.length,
  perPublish: PER_PUBLISH,
};

console.log(
  `bus bench: ${RECORDS_PER_BATCH}-record batches (${(payload.length / 1024).toFixed(0)} KiB each), ${PARTITIONS} partitions, ${PER_PUBLISH} batches per publish call, ${ROUNDS} rounds`,
);

if (which === undefined || which === "nats") {
  // NATS: publisher and acking consumer together, best of the rounds (raw and Bus alternated).
  const n = BATCHES["nats"]!;
  const runtime = ManagedRuntime.make(NatsBus.layer({ _tag: "nats", url: natsUrl }));
  const rounds: Array<{ raw: number; bus: number }> = [];
  const used: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = recordsPerSec(n, await rawNats(topicName("raw-nats"), n));
    const topic = topicName("bus-nats");
    used.push(topic);
    rounds.push({ raw: r, bus: recordsPerSec(n, await viaBus(runtime, topic, n)) });
  }
  await runtime.dispose();
  for (const topic of used) await dropNatsStream(topic);
  const rawBest = Math.max(...rounds.map((r) => r.raw));
  const busBest = Math.max(...rounds.map((r) => r.bus));
  figures["nats_bus_vs_natsjs"] = busBest / rawBest;
  figures["nats_natsjs_rec_per_s"] = rawBest;
  figures["nats_bus_rec_per_s"] = busBest;
  raw["nats"] = { batches: n, rounds };
  console.log(`nats (${n} batches, publish+consume together, best of rounds)`);
  console.log(`  nats.js ${fmt(rawBest)} rec/s   Bus ${fmt(busBest)} rec/s   ratio ${(busBest / rawBest).toFixed(2)}`);
}

if (which === undefined || which === "kafka") {
  const n = BATCHES["kafka"]!;
  const runtime = ManagedRuntime.make(
    KafkaBus.layer({ _tag: "kafka", brokers: kafkaBrokers, clientId: "netpulse-bench" }),
  );
  const rounds: KafkaRound[] = [];
  const rate = (r: Run) => recordsPerSec(n, r.ms);
  for (let round = 0; round < ROUNDS; round++) {
    const r = await kafkaRound(runtime, n, round);
    rounds.push(r);
    const line = (what: string, [a, b, a2]: Trio) =>
      `${what} raw ${fmt(rate(a))}  Bus ${fmt(rate(b))}  raw' ${fmt(rate(a2))}  Bus/raw ${(rate(b) / ((rate(a) + rate(a2)) / 2)).toFixed(2)}  A'/A ${(rate(a2) / rate(a)).toFixed(2)}  cpu ms ${a.cpuMs.toFixed(0)}/${b.cpuMs.toFixed(0)}/${a2.cpuMs.toFixed(0)}`;
    console.log(`round ${round + 1}: ${line("publish", r.publish)}`);
    console.log(`         ${line("consume", r.consume)}`);
  }
  await runtime.dispose();
  // Only now: kafkajs' producer keeps refreshing metadata of every topic it wrote to, deleted or not.
  for (const topic of kafkaTopics) await dropKafkaTopic(topic);
  const summary = (what: "publish" | "consume") => {
    const trios = rounds.map((r) => r[what]);
    const ratio = median(trios.map(([a, b, a2]) => rate(b) / ((rate(a) + rate(a2)) / 2)));
    const aa = trios.map(([a, , a2]) => rate(a2) / rate(a));
    const rawRate = median(trios.flatMap(([a, , a2]) => [rate(a), rate(a2)]));
    const busRate = median(trios.map(([, b]) => rate(b)));
    // CPU this process spent per batch, Bus over raw: the client-side cost the Bus adds, far less
    // sensitive to a loaded machine than wall-clock rates.
    const cpuRatio = median(trios.map(([a, b, a2]) => b.cpuMs / ((a.cpuMs + a2.cpuMs) / 2)));
    figures[`kafka_bus_vs_kafkajs_${what}`] = ratio;
    figures[`kafka_${what}_kafkajs_rec_per_s`] = rawRate;
    figures[`kafka_${what}_bus_rec_per_s`] = busRate;
    // A/A: how far two raw runs of one round land apart (max |A'/A - 1|); Bus/raw within it is noise.
    figures[`kafka_${what}_aa_spread`] = Math.max(...aa.map((x) => Math.abs(x - 1)));
    figures[`kafka_${what}_bus_cpu_vs_kafkajs`] = cpuRatio;
    console.log(
      `kafka ${what} (${n} batches, median of ${ROUNDS}): kafkajs ${fmt(rawRate)} rec/s  Bus ${fmt(busRate)} rec/s  ratio ${ratio.toFixed(2)} (goal >= 0.8)  A/A ${Math.min(...aa).toFixed(2)}..${Math.max(...aa).toFixed(2)}  Bus CPU/raw CPU ${cpuRatio.toFixed(2)}`,
    );
    return ratio;
  };
  figures["kafka_bus_vs_kafkajs"] = Math.min(summary("publish"), summary("consume"));
  raw["kafka"] = { batches: n, rounds };
}

figures["raw"] = raw;
console.log(`results: ${await writeResults("bus", figures)}`);
