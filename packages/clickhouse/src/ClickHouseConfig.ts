// ClickHouse connection settings from the NETPULSE_CLICKHOUSE_* environment, read once with
// Effect Config; shared by the sink, `netpulse query` and replay. The password stays Redacted
// until the client constructor in ClickHouse.ts.
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Either from "effect/Either";
import * as Option from "effect/Option";
import type * as Redacted from "effect/Redacted";

export const clickHouseDefaults = {
  url: "http://127.0.0.1:8123",
  user: "default",
  database: "netpulse",
  requestTimeoutMs: 30_000,
} as const;

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
  Config.withDefault(clickHouseDefaults.url),
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
  user: Config.string("NETPULSE_CLICKHOUSE_USER").pipe(Config.withDefault(clickHouseDefaults.user)),
  password: optional(Config.redacted("NETPULSE_CLICKHOUSE_PASSWORD")),
  database: identifier("NETPULSE_CLICKHOUSE_DATABASE", clickHouseDefaults.database),
  requestTimeoutMs: positive("NETPULSE_CLICKHOUSE_TIMEOUT_MS", clickHouseDefaults.requestTimeoutMs),
  compression: Config.literal(
    "gzip",
    "none",
  )("NETPULSE_CLICKHOUSE_COMPRESSION").pipe(Config.withDefault("gzip" as const)),
});
