// The three tables the sink writes: their columns (every Avro field, Endpoint fields flattened to
// src_* / dst_*), derived time columns, identity key, ordering and retention. The DDL (ddl.ts)
// and the row encoder (rows/RowEncoder.ts) are both generated from these specs.
import type { Anomaly, EnrichedFlow, Endpoint, Heartbeat } from "@netpulse/runtime/records";
import { type Column, type Derived, preciseTime, timeColumns } from "./columns.js";

export interface TableSpec<R> {
  readonly name: string;
  readonly columns: ReadonlyArray<Column<R>>;
  readonly derived: ReadonlyArray<Derived>;
  /** Record identity: these columns, in this order; at most one row per identity, ever. */
  readonly key: ReadonlyArray<string>;
  /** The ns column of the key whose DateTime twin leads ORDER BY: key look-ups prune by it. */
  readonly keyTime: { readonly ns: string; readonly seconds: string };
  readonly partitionBy: string;
  readonly orderBy: ReadonlyArray<string>;
  readonly ttlDays: number;
  /** A row breaking this is refused by the server (CHECK on modern, throwIf column on legacy). */
  readonly check: string;
}

const endpoint = <R>(prefix: "src" | "dst", ep: (r: R) => Endpoint): Column<R>[] => [
  { name: `${prefix}_kind`, type: "Tag", get: (r) => ep(r).kind },
  { name: `${prefix}_pod`, type: "String", get: (r) => ep(r).pod },
  { name: `${prefix}_namespace`, type: "Tag", get: (r) => ep(r).namespace },
  { name: `${prefix}_node`, type: "Tag", get: (r) => ep(r).node },
  { name: `${prefix}_workload_kind`, type: "Tag", get: (r) => ep(r).workload_kind },
  { name: `${prefix}_workload_name`, type: "Tag", get: (r) => ep(r).workload_name },
  { name: `${prefix}_service`, type: "Tag", get: (r) => ep(r).service },
  { name: `${prefix}_labels`, type: "Labels", get: (r) => ep(r).labels },
  { name: `${prefix}_host_network`, type: "Bool", get: (r) => ep(r).host_network },
  { name: `${prefix}_external_name`, type: "Tag", get: (r) => ep(r).external_name },
];

const TS_RANGE = "BETWEEN 946684800000000000 AND 4102444799999999999"; // 2000-01-01 .. 2099-12-31

export const flows: TableSpec<EnrichedFlow> = {
  name: "flows",
  columns: [
    { name: "flow_id", type: "Int64", get: (r) => r.flow_id },
    { name: "node", type: "Tag", get: (r) => r.node },
    { name: "start_ns", type: "Int64", get: (r) => r.start_ns, codec: "CODEC(Delta, ZSTD(1))" },
    { name: "end_ns", type: "Int64", get: (r) => r.end_ns, codec: "CODEC(Delta, ZSTD(1))" },
    { name: "src_ip", type: "IP", get: (r) => r.src_ip },
    { name: "src_port", type: "UInt16", get: (r) => r.src_port },
    { name: "dst_ip", type: "IP", get: (r) => r.dst_ip },
    { name: "dst_port", type: "UInt16", get: (r) => r.dst_port },
    { name: "protocol", type: "Tag", get: (r) => r.protocol },
    { name: "direction", type: "Tag", get: (r) => r.direction },
    { name: "bytes_sent", type: "Int64", get: (r) => r.bytes_sent },
    { name: "bytes_received", type: "Int64", get: (r) => r.bytes_received },
    { name: "segs_sent", type: "Int64", get: (r) => r.segs_sent },
    { name: "segs_received", type: "Int64", get: (r) => r.segs_received },
    { name: "retransmits", type: "Int64", get: (r) => r.retransmits },
    { name: "syn_retransmits", type: "Int64", get: (r) => r.syn_retransmits },
    { name: "srtt_us", type: "Int32", get: (r) => r.srtt_us },
    { name: "min_rtt_us", type: "Int32", get: (r) => r.min_rtt_us },
    { name: "max_rtt_us", type: "Int32", get: (r) => r.max_rtt_us },
    { name: "state", type: "Tag", get: (r) => r.state },
    { name: "close_reason", type: "Tag", get: (r) => r.close_reason },
    { name: "netns", type: "Int64", get: (r) => r.netns },
    { name: "cgroup_id", type: "Int64", get: (r) => r.cgroup_id },
    { name: "pid", type: "Int32", get: (r) => r.pid },
    { name: "comm", type: "Tag", get: (r) => r.comm },
    { name: "sampling", type: "Int32", get: (r) => r.sampling },
    ...endpoint<EnrichedFlow>("src", (r) => r.src),
    ...endpoint<EnrichedFlow>("dst", (r) => r.dst),
  ],
  derived: [timeColumns("start", "start_ns"), preciseTime("start_time", "start_ns"), preciseTime("end_time", "end_ns")],
  key: ["flow_id", "start_ns"],
  keyTime: { ns: "start_ns", seconds: "start" },
  partitionBy: "toYYYYMMDD(start)",
  orderBy: ["start", "flow_id", "start_ns"],
  ttlDays: 30,
  check:
    `start_ns ${TS_RANGE} AND end_ns >= start_ns AND bytes_sent >= 0 AND bytes_received >= 0 ` +
    "AND segs_sent >= 0 AND segs_received >= 0 AND retransmits >= 0 AND syn_retransmits >= 0",
};

export const anomalies: TableSpec<Anomaly> = {
  name: "anomalies",
  columns: [
    { name: "id", type: "String", get: (r) => r.id },
    { name: "kind", type: "Tag", get: (r) => r.kind },
    { name: "severity", type: "Tag", get: (r) => r.severity },
    { name: "rule_id", type: "Tag", get: (r) => r.rule_id },
    { name: "rule_version", type: "Int32", get: (r) => r.rule_version },
    { name: "detected_ns", type: "Int64", get: (r) => r.detected_ns },
    { name: "window_start_ns", type: "Int64", get: (r) => r.window_start_ns },
    { name: "window_end_ns", type: "Int64", get: (r) => r.window_end_ns },
    { name: "node", type: "Tag", get: (r) => r.node },
    // may be empty (node-level anomalies), so text on every server
    { name: "src_ip", type: "String", get: (r) => r.src_ip },
    { name: "dst_ip", type: "String", get: (r) => r.dst_ip },
    { name: "dst_port", type: "Int32", get: (r) => r.dst_port },
    ...endpoint<Anomaly>("src", (r) => r.src),
    ...endpoint<Anomaly>("dst", (r) => r.dst),
    { name: "threshold", type: "NullableFloat64", get: (r) => r.threshold },
    { name: "baseline", type: "NullableFloat64", get: (r) => r.baseline },
    { name: "observed", type: "Float64", get: (r) => r.observed },
    { name: "sample_flow_ids", type: "ArrayInt64", get: (r) => r.sample_flow_ids },
    { name: "cause_hint", type: "String", get: (r) => r.cause_hint },
    { name: "policy_verdict", type: "Tag", get: (r) => r.policy_verdict },
    { name: "policy_name", type: "String", get: (r) => r.policy_name },
    { name: "policy_rule", type: "String", get: (r) => r.policy_rule },
    { name: "message", type: "String", get: (r) => r.message },
    // schema v3 (anomaly.v2.avsc): the episode a record opens or resolves
    { name: "status", type: "Tag", get: (r) => r.status ?? "open" },
    { name: "count", type: "Int32", get: (r) => r.count ?? 1 },
    { name: "first_seen_ns", type: "Int64", get: (r) => r.first_seen_ns ?? 0n },
    { name: "last_seen_ns", type: "Int64", get: (r) => r.last_seen_ns ?? 0n },
    { name: "unit", type: "Tag", get: (r) => r.unit ?? "" },
    { name: "pair", type: "String", get: (r) => r.pair ?? "" },
    { name: "policy_direction", type: "Tag", get: (r) => r.policy_direction ?? "" },
  ],
  derived: [
    timeColumns("window_start", "window_start_ns"),
    preciseTime("window_end", "window_end_ns"),
    preciseTime("detected", "detected_ns"),
  ],
  // An episode's opening and its resolution share the id: one row each, and a redelivery of
  // either is still a no-op. Merges keep the later (ReplacingMergeTree on window_start, id).
  key: ["id", "status"],
  keyTime: { ns: "window_start_ns", seconds: "window_start" },
  partitionBy: "toYYYYMM(window_start)",
  orderBy: ["window_start", "id"],
  ttlDays: 180,
  check: `window_start_ns ${TS_RANGE} AND window_end_ns >= window_start_ns AND id != ''`,
};

export const nodeStats: TableSpec<Heartbeat> = {
  name: "node_stats",
  columns: [
    { name: "node", type: "Tag", get: (r) => r.node },
    { name: "ts_ns", type: "Int64", get: (r) => r.ts_ns, codec: "CODEC(Delta, ZSTD(1))" },
    { name: "conntrack_count", type: "Int64", get: (r) => r.conntrack_count },
    { name: "conntrack_max", type: "Int64", get: (r) => r.conntrack_max },
    { name: "conntrack_insert_failed", type: "Int64", get: (r) => r.conntrack_insert_failed },
    { name: "conntrack_drop", type: "Int64", get: (r) => r.conntrack_drop },
    { name: "flows_tracked", type: "Int64", get: (r) => r.flows_tracked },
    { name: "records_published", type: "Int64", get: (r) => r.records_published },
    { name: "dropped_ringbuf", type: "Int64", get: (r) => r.dropped_ringbuf },
    { name: "dropped_queue", type: "Int64", get: (r) => r.dropped_queue },
    { name: "sampling", type: "Int32", get: (r) => r.sampling },
  ],
  derived: [timeColumns("ts", "ts_ns")],
  key: ["node", "ts_ns"],
  keyTime: { ns: "ts_ns", seconds: "ts" },
  partitionBy: "toYYYYMMDD(ts)",
  orderBy: ["ts", "node", "ts_ns"],
  ttlDays: 30,
  check: `ts_ns ${TS_RANGE}`,
};
