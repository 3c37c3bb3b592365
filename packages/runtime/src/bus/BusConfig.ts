// Bus connection settings and where they come from: the NETPULSE_BUS / NETPULSE_NATS_* /
// NETPULSE_KAFKA_* environment, read once with Effect Config. Secrets stay Redacted end to end;
// the one place that unwraps them is the client constructor in nats/connect.ts and kafka/client.ts.
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Option from "effect/Option";
import type * as Redacted from "effect/Redacted";

export interface NatsTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface NatsSettings {
  readonly _tag: "nats";
  /** Comma-separated server URLs are allowed. */
  readonly url: string;
  readonly user?: string;
  readonly password?: Redacted.Redacted;
  readonly token?: Redacted.Redacted;
  /** Path of a `.creds` file (JWT + nkey seed). */
  readonly credsFile?: string;
  readonly tls?: NatsTls;
  /** Client name shown by the server (monitoring, logs). */
  readonly name?: string;
  /** JetStream replicas of every stream netpulse creates (1, or 3 on a 3-node cluster). */
  readonly replicas?: number;
}

export type KafkaSaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

export interface KafkaSettings {
  readonly _tag: "kafka";
  readonly brokers: ReadonlyArray<string>;
  readonly clientId: string;
  readonly sasl?: {
    readonly mechanism: KafkaSaslMechanism;
    readonly username: string;
    readonly password: Redacted.Redacted;
  };
  /** TLS on; `caFile` adds a private CA to the trusted set. */
  readonly tls?: { readonly caFile?: string };
  /**
   * Replication factor of every topic netpulse creates; above 1, `min.insync.replicas` is one less
   * (2 of 3), so with acks from all in-sync replicas one broker may be down without losing an acked batch.
   */
  readonly replicas?: number;
  /**
   * Group session timeout: a consumer silent this long is dropped from its group and its partitions
   * go to the others (NETPULSE_KAFKA_SESSION_TIMEOUT_MS, 30 s by default; the broker accepts
   * group.min.session.timeout.ms..group.max.session.timeout.ms, 6 s..30 min by default).
   */
  readonly sessionTimeoutMs?: number;
  /** How often a consumer heartbeats its group (NETPULSE_KAFKA_HEARTBEAT_MS; a tenth of the session timeout by default). */
  readonly heartbeatIntervalMs?: number;
}

export type BusSettings = NatsSettings | KafkaSettings;

export const defaults = {
  bus: "nats",
  natsUrl: "nats://127.0.0.1:4222",
  kafkaBrokers: "127.0.0.1:9092",
  kafkaClientId: "netpulse",
  kafkaSessionTimeoutMs: 30_000,
} as const;

const optional = <A>(config: Config.Config<A>) => Config.option(config).pipe(Config.map(Option.getOrUndefined));

const invalid = (name: string, message: string) => ConfigError.InvalidData([name], message);

/** `host:port` entries; anything else fails naming the variable. */
const brokerList = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(defaults.kafkaBrokers),
    Config.mapOrFail((raw) => {
      const brokers = raw
        .split(",")
        .map((b) => b.trim())
        .filter((b) => b.length > 0);
      const bad = brokers.find((b) => !/^[^\s:/]+:\d{1,5}$/.test(b));
      if (brokers.length === 0) return Either.left(invalid(name, "expected host:port[,host:port...]"));
      if (bad !== undefined) return Either.left(invalid(name, `"${bad}" is not host:port`));
      return Either.right(brokers);
    }),
  );

/**
 * NETPULSE_BUS_REPLICAS: copies of every stream/topic netpulse creates, 1 by default (one broker).
 * Applies when netpulse creates or aligns a stream or topic; a Kafka topic's replication factor is
 * not changed once it exists (that is a partition reassignment, an operator's job).
 */
const replicasConfig = Config.integer("NETPULSE_BUS_REPLICAS").pipe(
  Config.withDefault(1),
  Config.mapOrFail((n) =>
    n >= 1 && n <= 5 ? Either.right(n) : Either.left(invalid("NETPULSE_BUS_REPLICAS", `${n} is not 1..5`)),
  ),
);

const natsUrl = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(defaults.natsUrl),
    Config.mapOrFail((raw) => {
      const bad = raw
        .split(",")
        .map((u) => u.trim())
        .find((u) => !/^(nats|tls|wss?):\/\/[^\s/]+\/?$/.test(u) && !/^[^\s:/]+:\d{1,5}$/.test(u));
      return bad === undefined
        ? Either.right(raw)
        : Either.left(invalid(name, `"${redactUrl(bad)}" is not a nats://, tls:// or ws(s):// URL`));
    }),
  );

export const natsSettingsConfig: Config.Config<NatsSettings> = Config.all({
  url: natsUrl("NETPULSE_NATS_URL"),
  user: optional(Config.string("NETPULSE_NATS_USER")),
  password: optional(Config.redacted("NETPULSE_NATS_PASSWORD")),
  token: optional(Config.redacted("NETPULSE_NATS_TOKEN")),
  credsFile: optional(Config.string("NETPULSE_NATS_CREDS")),
  caFile: optional(Config.string("NETPULSE_NATS_TLS_CA")),
  certFile: optional(Config.string("NETPULSE_NATS_TLS_CERT")),
  keyFile: optional(Config.string("NETPULSE_NATS_TLS_KEY")),
  replicas: replicasConfig,
}).pipe(
  Config.mapOrFail((c) => {
    if ((c.user === undefined) !== (c.password === undefined))
      return Either.left(invalid("NETPULSE_NATS_USER", "NETPULSE_NATS_USER and NETPULSE_NATS_PASSWORD go together"));
    if ((c.certFile === undefined) !== (c.keyFile === undefined))
      return Either.left(
        invalid("NETPULSE_NATS_TLS_CERT", "NETPULSE_NATS_TLS_CERT and NETPULSE_NATS_TLS_KEY go together"),
      );
    const tls: NatsTls | undefined =
      c.caFile === undefined && c.certFile === undefined
        ? undefined
        : {
            ...(c.caFile !== undefined && { caFile: c.caFile }),
            ...(c.certFile !== undefined && { certFile: c.certFile }),
            ...(c.keyFile !== undefined && { keyFile: c.keyFile }),
          };
    return Either.right<NatsSettings>({
      _tag: "nats",
      url: c.url,
      ...(c.user !== undefined && { user: c.user }),
      ...(c.password !== undefined && { password: c.password }),
      ...(c.token !== undefined && { token: c.token }),
      ...(c.credsFile !== undefined && { credsFile: c.credsFile }),
      ...(tls !== undefined && { tls }),
      ...(c.replicas > 1 && { replicas: c.replicas }),
    });
  }),
);

/**
 * NETPULSE_KAFKA_SESSION_TIMEOUT_MS / NETPULSE_KAFKA_HEARTBEAT_MS: how soon a dead consumer's
 * partitions move to another member, against how long a stalled one (GC, a slow sink) may stay
 * silent. The heartbeat must fit three times in the session (Kafka's rule of thumb), so one lost
 * heartbeat does not cost the member its partitions.
 */
const groupTimingConfig = Config.all({
  sessionTimeoutMs: Config.integer("NETPULSE_KAFKA_SESSION_TIMEOUT_MS").pipe(
    Config.withDefault(defaults.kafkaSessionTimeoutMs),
  ),
  heartbeatIntervalMs: optional(Config.integer("NETPULSE_KAFKA_HEARTBEAT_MS")),
}).pipe(
  Config.mapOrFail(({ sessionTimeoutMs, heartbeatIntervalMs }) => {
    if (sessionTimeoutMs < 1_000 || sessionTimeoutMs > 3_600_000)
      return Either.left(
        invalid("NETPULSE_KAFKA_SESSION_TIMEOUT_MS", `${sessionTimeoutMs} is not 1000..3600000 (milliseconds)`),
      );
    const heartbeat = heartbeatIntervalMs ?? Math.round(sessionTimeoutMs / 10);
    if (heartbeat < 100 || heartbeat * 3 > sessionTimeoutMs)
      return Either.left(
        invalid(
          "NETPULSE_KAFKA_HEARTBEAT_MS",
          `${heartbeat} must be at least 100 and at most a third of the session timeout (${sessionTimeoutMs} ms)`,
        ),
      );
    return Either.right({ sessionTimeoutMs, heartbeatIntervalMs: heartbeat });
  }),
);

export const kafkaSettingsConfig: Config.Config<KafkaSettings> = Config.all({
  brokers: brokerList("NETPULSE_KAFKA_BROKERS"),
  clientId: Config.string("NETPULSE_KAFKA_CLIENT_ID").pipe(Config.withDefault(defaults.kafkaClientId)),
  mechanism: optional(Config.literal("plain", "scram-sha-256", "scram-sha-512")("NETPULSE_KAFKA_SASL_MECHANISM")),
  username: optional(Config.string("NETPULSE_KAFKA_USERNAME")),
  password: optional(Config.redacted("NETPULSE_KAFKA_PASSWORD")),
  tls: Config.boolean("NETPULSE_KAFKA_TLS").pipe(Config.withDefault(false)),
  caFile: optional(Config.string("NETPULSE_KAFKA_TLS_CA")),
  replicas: replicasConfig,
  group: groupTimingConfig,
}).pipe(
  Config.mapOrFail((c) => {
    if (c.mechanism !== undefined && (c.username === undefined || c.password === undefined))
      return Either.left(
        invalid("NETPULSE_KAFKA_SASL_MECHANISM", "SASL needs NETPULSE_KAFKA_USERNAME and NETPULSE_KAFKA_PASSWORD"),
      );
    if (c.mechanism === undefined && c.username !== undefined)
      return Either.left(invalid("NETPULSE_KAFKA_USERNAME", "set NETPULSE_KAFKA_SASL_MECHANISM to use a username"));
    const useTls = c.tls || c.caFile !== undefined;
    return Either.right<KafkaSettings>({
      _tag: "kafka",
      brokers: c.brokers,
      clientId: c.clientId,
      ...(c.mechanism !== undefined &&
        c.username !== undefined &&
        c.password !== undefined && {
          sasl: { mechanism: c.mechanism, username: c.username, password: c.password },
        }),
      ...(useTls && { tls: c.caFile !== undefined ? { caFile: c.caFile } : {} }),
      ...(c.replicas > 1 && { replicas: c.replicas }),
      sessionTimeoutMs: c.group.sessionTimeoutMs,
      heartbeatIntervalMs: c.group.heartbeatIntervalMs,
    });
  }),
);

/** NETPULSE_BUS picks the broker; only that broker's variables are read. */
export const busSettings: Effect.Effect<BusSettings, ConfigError.ConfigError> = Effect.gen(function* () {
  const kind = yield* Config.literal("nats", "kafka")("NETPULSE_BUS").pipe(Config.withDefault(defaults.bus));
  return kind === "kafka" ? yield* kafkaSettingsConfig : yield* natsSettingsConfig;
});

/** Safe to log: no secret, only whether one is set. */
export const describeSettings = (s: BusSettings): string =>
  s._tag === "nats"
    ? `nats ${redactUrl(s.url)} auth=${s.credsFile !== undefined ? "creds" : s.token !== undefined ? "token" : s.user !== undefined ? `user:${s.user}` : "none"} tls=${s.tls !== undefined} replicas=${s.replicas ?? 1}`
    : `kafka ${s.brokers.join(",")} sasl=${s.sasl?.mechanism ?? "none"} tls=${s.tls !== undefined} replicas=${s.replicas ?? 1} session=${s.sessionTimeoutMs ?? defaults.kafkaSessionTimeoutMs}ms`;

/** Drop user:password@ from URLs before they reach a log line or an error message. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/g, "//");
