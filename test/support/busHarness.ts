// Shared by the bus contract suite and the bus bench: a Bus layer per broker from the test
// environment (NETPULSE_NATS_URL, NETPULSE_KAFKA_BROKERS), unique topic names per run, a broker
// restart through scripts/services.sh, small stream helpers with deadlines, the decoded records on
// a topic since a time, and a one-message round trip for the auth tests.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as Chunk from "effect/Chunk";
import * as ConfigProvider from "effect/ConfigProvider";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Layer from "effect/Layer";
import * as Stream from "effect/Stream";
import { Bus, type BusError, type BusMessage } from "@netpulse/runtime/bus/Bus";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import type { BatchCodec } from "@netpulse/runtime/codec/BatchCodec";
import { DeadLetterCodec } from "@netpulse/runtime/codec/codecs";
import type { DeadLetter } from "@netpulse/runtime/records";

export type BrokerKind = "nats" | "kafka";

const root = fileURLToPath(new URL("../..", import.meta.url));

export const natsUrl = process.env["NETPULSE_NATS_URL"] ?? "nats://127.0.0.1:4222";
export const kafkaBrokers = (process.env["NETPULSE_KAFKA_BROKERS"] ?? "127.0.0.1:9092").split(",");

/** The shared server of `kind` by default; `at` points it elsewhere (a cluster: its URLs and replicas). */
export const busLayer = (
  kind: BrokerKind,
  at: { readonly urls?: string; readonly replicas?: number } = {},
): Layer.Layer<Bus, BusError> => {
  const replicas = at.replicas !== undefined && at.replicas > 1 ? { replicas: at.replicas } : {};
  return kind === "nats"
    ? NatsBus.layer({ _tag: "nats", url: at.urls ?? natsUrl, name: "netpulse-test", ...replicas })
    : KafkaBus.layer({
        _tag: "kafka",
        brokers: at.urls?.split(",") ?? kafkaBrokers,
        clientId: "netpulse-test",
        ...replicas,
      });
};

/**
 * What the bus contract suite runs against: a name for its titles, the broker kind, the bus (made
 * when the suite starts, so a cluster started in the file's beforeAll is known by then) and the
 * "broker restart" its restart case goes through.
 */
export interface BusTarget {
  readonly name: string;
  readonly kind: BrokerKind;
  readonly layer: () => Layer.Layer<Bus, BusError>;
  readonly restart: () => Effect.Effect<void, Error>;
}

/** The shared single server of `kind` (NETPULSE_NATS_URL / NETPULSE_KAFKA_BROKERS). */
export const singleServer = (kind: BrokerKind): BusTarget => ({
  name: kind,
  kind,
  layer: () => busLayer(kind),
  restart: () => restartBroker(kind),
});

/** The bus a service given `env` (NETPULSE_BUS, NETPULSE_NATS_URL, …) would dial, read the same way. */
export const busFromEnv = (env: Record<string, string>) =>
  BusLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))));

/** A topic nobody else uses: reruns and parallel checkouts never see each other's messages. */
export const uniqueTopic = (name: string): string =>
  `test.${name}.${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

export const uniqueGroup = (name: string): string => `${name}-${randomBytes(4).toString("hex")}`;

/**
 * Stop and start a broker. NETPULSE_TEST_RESTART_<KIND> (a shell command) overrides the default
 * `scripts/services.sh down <kind> && scripts/services.sh up <kind>` for servers started by hand.
 */
export const restartBroker = (kind: BrokerKind): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    const custom = process.env[`NETPULSE_TEST_RESTART_${kind.toUpperCase()}`];
    const script = `${root}scripts/services.sh`;
    const command = custom ?? `bash ${script} down ${kind} && bash ${script} up ${kind}`;
    // Asynchronous on purpose: publishers and consumers keep running while the broker is away.
    const child = execFile("bash", ["-c", command], { timeout: 180_000 }, (error, stdout, stderr) => {
      if (error) resume(Effect.fail(new Error(`restart of ${kind} failed: ${error.message}\n${stdout}${stderr}`)));
      else resume(Effect.void);
    });
    return Effect.sync(() => child.kill());
  });

/** The first `n` elements of a stream, failing if they don't arrive within `within`. */
export const takeWithin = <A, E, R>(stream: Stream.Stream<A, E, R>, n: number, within: Duration.DurationInput) =>
  stream.pipe(
    Stream.take(n),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`fewer than ${n} messages within ${Duration.format(within)}`),
    }),
  );

/**
 * Every record on `topic` from `fromMs` on (its replay by time): each message through `decode`,
 * the messages it refuses (poison, other producers' garbage) left out.
 */
export const recordsSince = <A, E>(
  topic: string,
  fromMs: number,
  decode: (bytes: Uint8Array) => Either.Either<ReadonlyArray<A>, E>,
): Effect.Effect<A[], BusError, Bus> =>
  Effect.flatMap(Bus, (bus) =>
    bus.replay(topic, { _tag: "Time", fromMs }).pipe(
      Stream.runCollect,
      Effect.map((c) =>
        [...c].flatMap((m) => {
          const d = decode(m.value);
          return Either.isRight(d) ? d.right : [];
        }),
      ),
    ),
  );

/** For recordsSince: the records of a batch envelope (a lone record is refused, as our producers never send one). */
export const batchRecords =
  <T>(codec: BatchCodec<T>) =>
  (bytes: Uint8Array): Either.Either<ReadonlyArray<T>, unknown> =>
    Either.map(codec.decodeBatch(bytes), (b) => b.records);

/** For recordsSince: one dead letter per message. */
export const deadLetter = (bytes: Uint8Array): Either.Either<ReadonlyArray<DeadLetter>, unknown> =>
  Either.map(DeadLetterCodec.decode(bytes), (d) => [d]);

export const text = (m: BusMessage): string => m.value.toString("utf8");

/** Provision `topic`, publish "hello" and read it back as group "g": the texts that came back. */
export const echoOnce = (topic: string, within: Duration.DurationInput = "60 seconds") =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    yield* bus.provision({ topic, partitions: 1, retentionMs: 60_000 });
    yield* bus.publish(topic, [{ key: "k", value: Buffer.from("hello") }]);
    return (yield* takeWithin(bus.consume(topic, { group: "g" }), 1, within)).map(text);
  });

export const encode = (s: string): Uint8Array => Buffer.from(s, "utf8");
