// Test data and a throwaway database per test file on the real ClickHouse server.
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Redacted from "effect/Redacted";
import type { Anomaly, EnrichedFlow, Endpoint, Heartbeat } from "@netpulse/runtime/records";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import type { ClickHouseSettings } from "../src/SinkConfig.js";

export const clickhouseUrl = process.env["NETPULSE_CLICKHOUSE_URL"] ?? "http://127.0.0.1:8123";

export const testSettings = (database: string): ClickHouseSettings => ({
  url: clickhouseUrl,
  user: process.env["NETPULSE_CLICKHOUSE_USER"] ?? "default",
  password:
    process.env["NETPULSE_CLICKHOUSE_PASSWORD"] === undefined
      ? undefined
      : Redacted.make(process.env["NETPULSE_CLICKHOUSE_PASSWORD"]),
  database,
  requestTimeoutMs: 30_000,
  compression: process.env["NETPULSE_CLICKHOUSE_COMPRESSION"] === "none" ? "none" : "gzip",
});

export const uniqueDb = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}`;

export const chLayer = (database: string) => ClickHouse.layerWith(testSettings(database));

export const run = <A, E>(database: string, effect: Effect.Effect<A, E, ClickHouse>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(chLayer(database))));

export const dropDb = (database: string) =>
  run(
    database,
    Effect.flatMap(ClickHouse, (ch) => ch.command(`DROP DATABASE IF EXISTS ${database}`)),
  );

export const count = (database: string, sql: string) =>
  run(
    database,
    Effect.flatMap(ClickHouse, (ch) => ch.queryText(`${sql} FORMAT TabSeparated`)),
  ).then((t) => Number(t.trim()));

const ep = (ns: string, workload: string, node: string, i: number): Endpoint => ({
  kind: "pod",
  pod: `${workload}-${i % 3}`,
  namespace: ns,
  node,
  workload_kind: "Deployment",
  workload_name: workload,
  service: workload,
  labels: { app: workload, tier: ns === "shop" ? "web" : "backend" },
  host_network: false,
  external_name: "",
});

const PAIRS = [
  ["shop", "frontend", "node-a", "shop", "cart", "node-b"],
  ["shop", "cart", "node-b", "data", "redis", "node-b"],
  ["shop", "frontend", "node-a", "data", "postgres", "node-c"],
  ["data", "etl", "node-c", "data", "postgres", "node-c"],
] as const;

/** Midnight UTC today: recent enough for modern servers' TTL, one calendar day for the queries. */
export const BASE_NS = BigInt(Math.floor(Date.now() / 86_400_000) * 86_400_000) * 1_000_000n;
export const baseDay = (offsetDays = 0) =>
  new Date(Number(BASE_NS / 1_000_000n) + offsetDays * 86_400_000).toISOString().slice(0, 10) + " 00:00:00";

/** n flows spread over ~n/100 seconds after `baseNs`; ids are `idBase + i`. */
export const makeFlows = (
  n: number,
  opts: { readonly idBase?: bigint; readonly baseNs?: bigint } = {},
): EnrichedFlow[] => {
  const idBase = opts.idBase ?? 1_000_000n;
  const base = opts.baseNs ?? BASE_NS;
  const out: EnrichedFlow[] = [];
  for (let i = 0; i < n; i++) {
    const p = PAIRS[i % PAIRS.length]!;
    const start = base + BigInt(i) * 10_000_000n;
    out.push({
      flow_id: idBase + BigInt(i),
      node: p[2],
      start_ns: start,
      end_ns: start + 5_000_000_000n,
      src_ip: `10.0.${i % PAIRS.length}.${(i % 200) + 1}`,
      src_port: 30000 + (i % 30000),
      dst_ip: `10.1.${i % PAIRS.length}.10`,
      dst_port: [8080, 6379, 5432, 5432][i % PAIRS.length]!,
      protocol: "TCP",
      direction: "client",
      bytes_sent: BigInt(1000 + (i % 5000)),
      bytes_received: BigInt(20000 + (i % 7000)),
      segs_sent: 10n,
      segs_received: 20n,
      retransmits: BigInt(i % 17 === 0 ? 5 : 0),
      syn_retransmits: BigInt(i % 101 === 0 ? 1 : 0),
      srtt_us: 200 + (i % 50) * 37,
      min_rtt_us: 150,
      max_rtt_us: 5000 + (i % 13),
      state: "ESTABLISHED",
      close_reason: i % 9 === 0 ? "rst_received" : "open",
      netns: 4026531840n,
      cgroup_id: 1234n + BigInt(i % 7),
      pid: 1000 + (i % 40),
      comm: p[4],
      sampling: 1,
      src: ep(p[0], p[1], p[2], i),
      dst: ep(p[3], p[4], p[5], i),
    });
  }
  return out;
};

export const makeAnomaly = (i: number, flowIds: ReadonlyArray<bigint>, baseNs = BASE_NS): Anomaly => ({
  id: `rtt_high:shop/frontend->data/postgres:${i}`,
  kind: i % 2 === 0 ? "rtt_high" : "policy_denied",
  severity: "warning",
  rule_id: i % 2 === 0 ? "rtt-80ms" : "netpol",
  rule_version: 1,
  detected_ns: baseNs + BigInt(i) * 60_000_000_000n + 1n,
  window_start_ns: baseNs + BigInt(i) * 60_000_000_000n,
  window_end_ns: baseNs + BigInt(i + 1) * 60_000_000_000n,
  node: "node-a",
  src_ip: "10.0.2.1",
  dst_ip: "10.1.2.10",
  dst_port: 5432,
  src: ep("shop", "frontend", "node-a", 0),
  dst: ep("data", "postgres", "node-c", 0),
  threshold: i % 2 === 0 ? 80000 : null,
  baseline: null,
  observed: 95000 + i,
  sample_flow_ids: flowIds,
  cause_hint: "queueing on node-c",
  policy_verdict: i % 2 === 0 ? "" : "denied",
  policy_name: i % 2 === 0 ? "" : "data/db-ingress",
  policy_rule: i % 2 === 0 ? "" : "ingress[0]",
  message: "RTT p95 above 80 ms",
});

export const makeHeartbeat = (node: string, i: number, baseNs = BASE_NS): Heartbeat => ({
  node,
  ts_ns: baseNs + BigInt(i) * 5_000_000_000n,
  conntrack_count: BigInt(1000 + i),
  conntrack_max: 262144n,
  conntrack_insert_failed: 0n,
  conntrack_drop: BigInt(i % 3),
  flows_tracked: BigInt(50 + i),
  records_published: BigInt(100 * i),
  dropped_ringbuf: 0n,
  dropped_queue: 0n,
  sampling: 1,
});

export const layerFor = (database: string): Layer.Layer<ClickHouse> => chLayer(database);
