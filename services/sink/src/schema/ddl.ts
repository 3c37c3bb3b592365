// CREATE statements generated from the table specs, per dialect. Legacy (18.16) gets plain types,
// a throwIf check column and no TTL; modern gets LowCardinality, IPv6, DateTime64(9), codecs, a
// CHECK constraint, TTL retention and non-replicated insert deduplication as an extra belt.
import { sqlType } from "./columns.js";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import type { TableSpec } from "./tables.js";

const column = (name: string, type: string, codec: string | undefined, d: Dialect) =>
  `  ${name} ${type}${d === "modern" && codec !== undefined ? ` ${codec}` : ""}`;

export const createTable = <R>(spec: TableSpec<R>, d: Dialect, db: string): string => {
  const lines = [
    ...spec.columns.map((c) => column(c.name, sqlType(c.type, d), c.codec, d)),
    ...spec.derived.map((x) => `  ${d === "modern" ? x.modern : x.legacy}`),
    d === "modern"
      ? `  CONSTRAINT valid_row CHECK ${spec.check}`
      : `  _check UInt8 MATERIALIZED throwIf(NOT (${spec.check}))`,
  ];
  const ttl = d === "modern" ? `\nTTL ${spec.keyTime.seconds} + INTERVAL ${spec.ttlDays} DAY` : "";
  const settings = d === "modern" ? "\nSETTINGS non_replicated_deduplication_window = 1000" : "";
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.${spec.name} (\n${lines.join(",\n")}\n)\n` +
    `ENGINE = ReplacingMergeTree\nPARTITION BY ${spec.partitionBy}\nORDER BY (${spec.orderBy.join(", ")})${ttl}${settings}`
  );
};
