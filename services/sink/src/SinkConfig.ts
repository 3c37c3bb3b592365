// Sink settings from the NETPULSE_SINK_* environment (and NETPULSE_CLICKHOUSE_* through
// @netpulse/clickhouse's clickHouseConfig), read once with Effect Config.
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Either from "effect/Either";
import { clickHouseConfig, clickHouseDefaults, type ClickHouseSettings } from "@netpulse/clickhouse/ClickHouseConfig";

export { clickHouseConfig, type ClickHouseSettings, type Compression } from "@netpulse/clickhouse/ClickHouseConfig";

export const defaults = {
  ...clickHouseDefaults,
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
  /** Redelivery delay for a batch a crashed sink never acked. */
  ackWaitMs: 60_000,
} as const;

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
}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((n) =>
      n > 0 ? Either.right(n) : Either.left(ConfigError.InvalidData([name], `${name} must be > 0, got ${n}`)),
    ),
  );

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
});
