// Versioned schema migrations. Each step is idempotent (IF NOT EXISTS), so a crash half-way
// through one just re-runs it; the step's row in schema_migrations is written after all its
// statements succeeded. Never edit a released step: add the next one.
import type { Column } from "./columns.js";
import { createTable } from "./ddl.js";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { anomalies, flows, nodeStats } from "./tables.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (d: Dialect, db: string) => ReadonlyArray<string>;
  /**
   * Columns to add where missing, after the statements. The Migrator checks system.columns
   * first: 18.16 has no ADD COLUMN IF NOT EXISTS, and a table created by an earlier step of
   * this same code already has them.
   */
  readonly addColumns?: ReadonlyArray<{ readonly table: string; readonly column: Column<never> }>;
}

const v1: Migration = {
  version: 1,
  name: "flows, anomalies, node_stats",
  statements: (d, db) => [createTable(flows, d, db), createTable(anomalies, d, db), createTable(nodeStats, d, db)],
};

/** Per-minute aggregates per workload pair: RTT quantiles and bytes, the questions asked most. */
const v2: Migration = {
  version: 2,
  name: "flows_pair_minute materialized view",
  statements: (d, db) => [
    `CREATE TABLE IF NOT EXISTS ${db}.flows_pair_minute (
  minute DateTime,
  src_namespace ${d === "modern" ? "LowCardinality(String)" : "String"},
  src_workload_name ${d === "modern" ? "LowCardinality(String)" : "String"},
  dst_namespace ${d === "modern" ? "LowCardinality(String)" : "String"},
  dst_workload_name ${d === "modern" ? "LowCardinality(String)" : "String"},
  flows AggregateFunction(count),
  bytes AggregateFunction(sum, Int64),
  retransmits AggregateFunction(sum, Int64),
  rtt_us AggregateFunction(quantiles(0.5, 0.95, 0.99), Int32)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (minute, src_namespace, src_workload_name, dst_namespace, dst_workload_name)${
      d === "modern" ? `\nTTL minute + INTERVAL ${flows.ttlDays * 3} DAY` : ""
    }`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.flows_pair_minute_mv TO ${db}.flows_pair_minute AS
SELECT
  toStartOfMinute(start) AS minute,
  src_namespace, src_workload_name, dst_namespace, dst_workload_name,
  countState() AS flows,
  sumState(bytes_sent + bytes_received) AS bytes,
  sumState(retransmits) AS retransmits,
  quantilesStateIf(0.5, 0.95, 0.99)(srtt_us, srtt_us > 0) AS rtt_us
FROM ${db}.flows
GROUP BY minute, src_namespace, src_workload_name, dst_namespace, dst_workload_name`,
  ],
};

/** Anomaly episodes (schemas/anomaly.v2.avsc): status, count, first and last seen, unit, subject, direction. */
const V3_COLUMNS = ["status", "count", "first_seen_ns", "last_seen_ns", "unit", "pair", "policy_direction"];
const v3: Migration = {
  version: 3,
  name: "anomaly episode columns",
  statements: () => [],
  addColumns: anomalies.columns
    .filter((c) => V3_COLUMNS.includes(c.name))
    .map((column) => ({ table: anomalies.name, column })),
};

export const migrations: ReadonlyArray<Migration> = [v1, v2, v3];

export const latestVersion = (list: ReadonlyArray<Migration> = migrations): number =>
  list.reduce((max, m) => Math.max(max, m.version), 0);
