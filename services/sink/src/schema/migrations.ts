// Versioned schema migrations. Each step is idempotent (IF NOT EXISTS), so a crash half-way
// through one just re-runs it; the step's row in schema_migrations is written after all its
// statements succeeded. Never edit a released step: add the next one.
import { createTable } from "./ddl.js";
import type { Dialect } from "./ServerVersion.js";
import { anomalies, flows, nodeStats } from "./tables.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (d: Dialect, db: string) => ReadonlyArray<string>;
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

export const migrations: ReadonlyArray<Migration> = [v1, v2];

export const latestVersion = (list: ReadonlyArray<Migration> = migrations): number =>
  list.reduce((max, m) => Math.max(max, m.version), 0);
