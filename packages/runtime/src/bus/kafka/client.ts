// The kafkajs client for one bus: TLS/SASL from KafkaSettings (the password is unwrapped only
// here), kafkajs' own logging routed into Effect logs at ERROR and above, admin/producer
// connections held for the bus's scope (disconnect on release), and kafkajs's consumers guarded
// against the stall of one stopped mid-rebalance (stoppedRunner.ts).
import { readFileSync } from "node:fs";
import * as Effect from "effect/Effect";
import * as Redacted from "effect/Redacted";
import * as Runtime from "effect/Runtime";
import {
  Kafka,
  logLevel,
  Partitioners,
  type KafkaConfig,
  type KafkaMessage,
  type LogEntry,
  type SASLOptions,
} from "kafkajs";
import { BusError, type BusMessage } from "../Bus.js";
import type { KafkaSettings } from "../BusConfig.js";
import { guardStoppedRunner } from "./stoppedRunner.js";

/** A fetched Kafka message as the Bus's message. */
export const busMessage = (topic: string, partition: number, m: KafkaMessage): BusMessage => ({
  topic,
  key: m.key?.toString("utf8") ?? "",
  value: m.value ?? Buffer.alloc(0),
  partition,
  offset: m.offset,
  timestampMs: Number(m.timestamp),
});

export const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));

const sasl = (s: KafkaSettings): SASLOptions | undefined => {
  if (s.sasl === undefined) return undefined;
  const { mechanism, username } = s.sasl;
  const password = Redacted.value(s.sasl.password);
  return mechanism === "plain"
    ? { mechanism, username, password }
    : mechanism === "scram-sha-256"
      ? { mechanism, username, password }
      : { mechanism, username, password };
};

const ssl = (s: KafkaSettings): Effect.Effect<KafkaConfig["ssl"], BusError> => {
  const caFile = s.tls?.caFile;
  if (s.tls === undefined) return Effect.succeed(undefined);
  if (caFile === undefined) return Effect.succeed(true);
  return Effect.try({
    try: () => ({ ca: [readFileSync(caFile, "utf8")] }),
    catch: (cause) =>
      new BusError({ op: "connect", message: `cannot read Kafka CA file ${caFile} (NETPULSE_KAFKA_TLS_CA)`, cause }),
  });
};

/** A Kafka client whose log lines go through the Effect logger (kafkajs logs nothing below ERROR). */
export const makeKafka = (settings: KafkaSettings) =>
  Effect.gen(function* () {
    // Every consumer of this client: a consumer stopped mid-rebalance must not stall the process.
    guardStoppedRunner();
    const runtime = yield* Effect.runtime<never>();
    const tls = yield* ssl(settings);
    const auth = sasl(settings);
    const logCreator = () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const text = `kafkajs ${entry.namespace}: ${message}`;
      const annotated = (e: Effect.Effect<void>) =>
        e.pipe(
          Effect.annotateLogs({ bus: "kafka", ...(typeof extra["error"] === "string" && { error: extra["error"] }) }),
        );
      Runtime.runFork(runtime)(
        annotated(
          // kafkajs logs at ERROR what it is about to retry (connection refused during a broker
          // restart, "coordinator loading", "rebalancing"); a failure that sticks reaches the caller
          // as a BusError or a consumer crash. So: its errors are our warnings, Connection noise is debug.
          entry.namespace === "Connection" || entry.level > logLevel.WARN
            ? Effect.logDebug(text)
            : Effect.logWarning(text),
        ),
      );
    };
    return new Kafka({
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      logLevel: logLevel.ERROR,
      logCreator,
      connectionTimeout: 5_000,
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
      ...(tls !== undefined && { ssl: tls }),
      ...(auth !== undefined && { sasl: auth }),
    });
  });

const connectError = (settings: KafkaSettings, what: string) => (cause: unknown) => {
  const text = errorText(cause);
  const why = /SASL|authenticat/i.test(text) ? `authentication failed (${text})` : text;
  return new BusError({ op: "connect", message: `Kafka ${what} at ${settings.brokers.join(",")}: ${why}`, cause });
};

/**
 * kafkajs retries a refused connect for about 30 s before it gives up; a stop signal in that time
 * must not wait for it (a pod has 30 s to go). The connect is the interruptible part of the
 * acquire: interrupted, the half-made client is left to the exiting process (runMain ends it) and
 * there is nothing to release.
 */
const connecting = <C extends { connect: () => Promise<void> }>(client: C, settings: KafkaSettings, what: string) =>
  Effect.tryPromise({ try: () => client.connect(), catch: connectError(settings, what) }).pipe(
    Effect.as(client),
    Effect.interruptible,
  );

export const connectAdmin = (kafka: Kafka, settings: KafkaSettings) =>
  Effect.acquireRelease(
    Effect.suspend(() => connecting(kafka.admin(), settings, "admin")),
    (admin) => Effect.promise(() => admin.disconnect().catch(() => undefined)),
  );

/**
 * The shared producer: acks from all in-sync replicas, idempotent (the broker drops a retried
 * duplicate), one request in flight so a retry cannot reorder a key, and kafkajs' default murmur2
 * partitioner (the Java client's), so a key maps to the same partition from any client.
 */
export const connectProducer = (kafka: Kafka, settings: KafkaSettings) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      return connecting(producer, settings, "producer");
    }),
    (producer) => Effect.promise(() => producer.disconnect().catch(() => undefined)),
  );
