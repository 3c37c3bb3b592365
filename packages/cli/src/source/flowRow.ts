// One `netpulse.flows` row (the sink's flattened form: endpoints as src_* / dst_*, labels as a
// Nested pair of arrays, IPs as IPv6 on modern servers) back into the EnrichedFlow it was written
// from. The inverse of the sink's row encoding (services/sink/src/schema/tables.ts); a test writes
// flows with the sink and reads them back through this to hold the two together.
import * as Either from "effect/Either";
import { checkFlow } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow, Endpoint } from "@netpulse/runtime/records";

const LONGS = [
  "flow_id",
  "start_ns",
  "end_ns",
  "bytes_sent",
  "bytes_received",
  "segs_sent",
  "segs_received",
  "retransmits",
  "syn_retransmits",
  "netns",
  "cgroup_id",
] as const;
const INTS = ["src_port", "dst_port", "srtt_us", "min_rtt_us", "max_rtt_us", "pid", "sampling"] as const;
const STRINGS = ["node", "protocol", "direction", "state", "close_reason", "comm"] as const;
const IPS = ["src_ip", "dst_ip"] as const;
const ENDPOINT_STRINGS = [
  "kind",
  "pod",
  "namespace",
  "node",
  "workload_kind",
  "workload_name",
  "service",
  "external_name",
] as const;

const endpointColumns = (p: "src" | "dst"): string[] => [
  ...ENDPOINT_STRINGS.map((f) => `${p}_${f}`),
  `${p}_labels.key`,
  `${p}_labels.value`,
  `${p}_host_network`,
];

/** The columns to select, in the table's order of concern; back-quoted where Nested needs it. */
export const FLOW_ROW_COLUMNS: ReadonlyArray<string> = [
  ...LONGS,
  ...INTS,
  ...STRINGS,
  ...IPS,
  ...endpointColumns("src"),
  ...endpointColumns("dst"),
];

export const FLOW_ROW_SELECT = FLOW_ROW_COLUMNS.map((c) => (c.includes(".") ? `\`${c}\`` : c)).join(", ");

const shown = (v: unknown): string => JSON.stringify(v) ?? String(v);

// The sink stores IPv4 as an IPv4-mapped IPv6 address on modern servers (text on 18.x).
const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** Reads typed columns of one row; the first column that is not what it should be is the problem. */
class RowReader {
  problem: string | undefined;
  constructor(readonly row: Readonly<Record<string, unknown>>) {}

  private bad<A>(c: string, what: string, fallback: A): A {
    this.problem ??= `column ${c}: not ${what}: ${shown(this.row[c])}`;
    return fallback;
  }

  // 64-bit integers arrive as decimal strings (ClickHouse quotes them in JSON by default), or as
  // numbers when the server is told not to.
  long(c: string): bigint {
    const v = this.row[c];
    if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
    if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
    return this.bad(c, "a 64-bit integer", 0n);
  }

  int(c: string): number {
    const v = this.row[c];
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    return typeof n === "number" && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 32
      ? n
      : this.bad(c, "an integer", 0);
  }

  str(c: string): string {
    const v = this.row[c];
    return typeof v === "string" ? v : this.bad(c, "a string", "");
  }

  strings(c: string): ReadonlyArray<string> {
    const v = this.row[c];
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : this.bad(c, "an array of strings", []);
  }

  ip(c: string): string {
    const v = this.str(c);
    return MAPPED_V4.exec(v)?.[1] ?? v;
  }

  bool(c: string): boolean {
    const v = this.row[c];
    return v === 1 || v === true ? true : v === 0 || v === false ? false : this.bad(c, "0 or 1", false);
  }

  labels(c: string): Record<string, string> {
    const keys = this.strings(`${c}.key`);
    const values = this.strings(`${c}.value`);
    if (keys.length !== values.length) this.problem ??= `column ${c}: ${keys.length} keys, ${values.length} values`;
    const labels: Record<string, string> = {};
    keys.forEach((k, i) => (labels[k] = values[i] ?? ""));
    return labels;
  }

  endpoint(p: "src" | "dst"): Endpoint {
    return {
      kind: this.str(`${p}_kind`),
      pod: this.str(`${p}_pod`),
      namespace: this.str(`${p}_namespace`),
      node: this.str(`${p}_node`),
      workload_kind: this.str(`${p}_workload_kind`),
      workload_name: this.str(`${p}_workload_name`),
      service: this.str(`${p}_service`),
      labels: this.labels(`${p}_labels`),
      host_network: this.bool(`${p}_host_network`),
      external_name: this.str(`${p}_external_name`),
    };
  }
}

/** A row as selected with FLOW_ROW_SELECT (JSONEachRow) → the flow, or why it is not one. */
export const flowOfRow = (row: Readonly<Record<string, unknown>>): Either.Either<EnrichedFlow, string> => {
  const r = new RowReader(row);
  const flow: EnrichedFlow = {
    flow_id: r.long("flow_id"),
    node: r.str("node"),
    start_ns: r.long("start_ns"),
    end_ns: r.long("end_ns"),
    src_ip: r.ip("src_ip"),
    src_port: r.int("src_port"),
    dst_ip: r.ip("dst_ip"),
    dst_port: r.int("dst_port"),
    protocol: r.str("protocol"),
    direction: r.str("direction"),
    bytes_sent: r.long("bytes_sent"),
    bytes_received: r.long("bytes_received"),
    segs_sent: r.long("segs_sent"),
    segs_received: r.long("segs_received"),
    retransmits: r.long("retransmits"),
    syn_retransmits: r.long("syn_retransmits"),
    srtt_us: r.int("srtt_us"),
    min_rtt_us: r.int("min_rtt_us"),
    max_rtt_us: r.int("max_rtt_us"),
    state: r.str("state"),
    close_reason: r.str("close_reason"),
    netns: r.long("netns"),
    cgroup_id: r.long("cgroup_id"),
    pid: r.int("pid"),
    comm: r.str("comm"),
    sampling: r.int("sampling"),
    src: r.endpoint("src"),
    dst: r.endpoint("dst"),
  };
  const problem = r.problem ?? checkFlow(flow);
  return problem === undefined ? Either.right(flow) : Either.left(problem);
};
