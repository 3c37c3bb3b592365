// Sink settings from the NETPULSE_CLICKHOUSE_* / NETPULSE_SINK_* environment, read once with
// Effect Config. The password stays Redacted until the client constructor in ClickHouse.ts.
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Either from "effect/Either";
import * as Option from "effect/Option";
import type * as Redacted from "effect/Redacted";

export const defaults = {
  url: "http://127.0.0.1:8123",
  user: "default",
  database: "netpulse",
  /** Rows per insert; ~50 k keeps the server's per-insert overhead under a few %. */
  batchRows: 50_000,
  /** Longest a row waits for its batch to fill. */
  lingerMs: 1_000,
  /** First retry delay when ClickHouse is unavailable; doubles up to retryMaxMs. */
  retryBaseMs: 200,
  retryMaxMs: 10_000,
  /**
   * Bus messages fetched but not yet acked (bounded memory while ClickHouse is away). Room for
   * the batch being written, the next one being prepared, and one filling, at 1000-record messages:
   * with less, the next batch cannot form until the current one commits and the two never overlap.
   */
  maxInFlight: 160,
  httpPort: 9464,
  group: "sink",
  requestTimeoutMs: 30_000,
  /** Redelivery delay for a batch a crashed sink never acked. */
  ackWaitMs: 60_000,
} as const;

/**
 * Fault injection for the crash tests: `kill-after-insert` SIGKILLs the process right after
 * ClickHouse accepted a batch and before any of its messages is acked — the worst moment.
 */
export type Failpoint = "none" | "kill-after-insert";

/** Request-body compression of inserts: gzip level 1 (≈6× on flow rows at a fraction of level 6's CPU). */
export type Compression = "gzip" | "none";

export interface ClickHouseSettings {
  readonly url: string;
  readonly compression: Compression;
  readonly user: string;
  readonly password: Redacted.Redacted | undefined;
  readonly database: string;
  readonly requestTimeoutMs: number;
}

export interface SinkSettings {
  readonly clickhouse: ClickHouseSettings;
  readonly batchRows: number;
  readonly lingerMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxInFlight: number;
  readonly httpPort: number;
  readonly group: string;
  readonly ackWaitMs: number;
  readonly failpoint: Failpoint;
}

const optional = <A>(config: Config.Config<A>) => Config.option(config).pipe(Config.map(Option.getOrUndefined));

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((n) =>
      n > 0 ? Either.right(n) : Either.left(ConfigError.InvalidData([name], `${name} must be > 0, got ${n}`)),
    ),
  );

const identifier = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((s) =>
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)
        ? Either.right(s)
        : Either.left(ConfigError.InvalidData([name], `${name} must be a plain identifier, got "${s}"`)),
    ),
  );

const url = Config.string("NETPULSE_CLICKHOUSE_URL").pipe(
  Config.withDefault(defaults.url),
  Config.mapOrFail((s) =>
    /^https?:\/\/[^/\s]+\/?$/.test(s)
      ? Either.right(s.replace(/\/$/, ""))
      : Either.left(
          ConfigError.InvalidData(
            ["NETPULSE_CLICKHOUSE_URL"],
            `NETPULSE_CLICKHOUSE_URL must be http(s)://host:port, got "${s}"`,
          ),
        ),
  ),
);

export const clickHouseConfig: Config.Config<ClickHouseSettings> = Config.all({
  url,
  user: Config.string("NETPULSE_CLICKHOUSE_USER").pipe(Config.withDefault(defaults.user)),
  password: optional(Config.redacted("NETPULSE_CLICKHOUSE_PASSWORD")),
  database: identifier("NETPULSE_CLICKHOUSE_DATABASE", defaults.database),
  requestTimeoutMs: positive("NETPULSE_CLICKHOUSE_TIMEOUT_MS", defaults.requestTimeoutMs),
  compression: Config.literal(
    "gzip",
    "none",
  )("NETPULSE_CLICKHOUSE_COMPRESSION").pipe(Config.withDefault("gzip" as const)),
});

export const sinkConfig: Config.Config<SinkSettings> = Config.all({
  clickhouse: clickHouseConfig,
  batchRows: positive("NETPULSE_SINK_BATCH_ROWS", defaults.batchRows),
  lingerMs: positive("NETPULSE_SINK_LINGER_MS", defaults.lingerMs),
  retryBaseMs: positive("NETPULSE_SINK_RETRY_BASE_MS", defaults.retryBaseMs),
  retryMaxMs: positive("NETPULSE_SINK_RETRY_MAX_MS", defaults.retryMaxMs),
  maxInFlight: positive("NETPULSE_SINK_MAX_IN_FLIGHT", defaults.maxInFlight),
  httpPort: positive("NETPULSE_SINK_HTTP_PORT", defaults.httpPort),
  group: Config.string("NETPULSE_SINK_GROUP").pipe(Config.withDefault(defaults.group)),
  ackWaitMs: positive("NETPULSE_SINK_ACK_WAIT_MS", defaults.ackWaitMs),
  failpoint: Config.literal(
    "none",
    "kill-after-insert",
  )("NETPULSE_SINK_FAILPOINT").pipe(Config.withDefault("none" as const)),
});
