// The end of the demo: a few cookbook queries (docs/queries.md) run on the demo's database with
// their results, how to go on, and the counts behind the --json summary line.
import * as Effect from "effect/Effect";
import { ClickHouse, runQuery } from "@netpulse/clickhouse";
import { DEMO_DATABASE } from "./paths.js";

export interface Summary {
  readonly flows: number;
  readonly anomalies_by_kind: Record<string, number>;
  readonly clickhouse_flow_rows: number;
}

const DB = DEMO_DATABASE;

/** Cookbook questions (docs/queries.md) on the demo's database. */
export const COOKBOOK: ReadonlyArray<{ readonly title: string; readonly sql: string }> = [
  {
    title: "Top talkers by workload pair",
    sql: `SELECT src_namespace, src_workload_name, dst_namespace, dst_workload_name,
  count() AS flows, sum(bytes_sent + bytes_received) AS bytes, sum(retransmits) AS retransmits
FROM ${DB}.flows WHERE direction = 'client'
GROUP BY src_namespace, src_workload_name, dst_namespace, dst_workload_name
ORDER BY bytes DESC LIMIT 10`,
  },
  {
    title: "RTT per workload pair (µs)",
    sql: `SELECT src_workload_name, dst_workload_name,
  quantiles(0.5, 0.95, 0.99)(srtt_us) AS q, q[1] AS p50_us, q[2] AS p95_us, q[3] AS p99_us, count() AS samples
FROM ${DB}.flows WHERE srtt_us > 0 AND direction = 'client'
GROUP BY src_workload_name, dst_workload_name
ORDER BY p99_us DESC LIMIT 10`,
  },
  {
    title: "Retransmit hot spots",
    sql: `SELECT src_workload_name, dst_workload_name, dst_port,
  sum(retransmits) AS retrans, sum(segs_sent) AS segs,
  if(segs = 0, 0, round(100 * retrans / segs, 2)) AS retrans_pct, sum(syn_retransmits) AS syn_retrans
FROM ${DB}.flows
GROUP BY src_workload_name, dst_workload_name, dst_port
HAVING retrans > 0 OR syn_retrans > 0
ORDER BY retrans DESC LIMIT 10`,
  },
  {
    title: "Anomalies by kind and pair",
    sql: `SELECT kind, src_namespace, src_workload_name, dst_namespace, dst_workload_name, dst_port,
  uniqExact(id) AS episodes, max(observed) AS worst, any(policy_name) AS policy
FROM ${DB}.anomalies
GROUP BY kind, src_namespace, src_workload_name, dst_namespace, dst_workload_name, dst_port
ORDER BY kind, episodes DESC`,
  },
];

/** Each cookbook query with its answer as a text table. */
export const cookbook = Effect.gen(function* () {
  const out: string[] = [];
  for (const q of COOKBOOK) {
    const table = yield* runQuery(q.sql, new Map(), "table").pipe(
      Effect.catchAll((e) => Effect.succeed(`(query failed: ${e.message})\n`)),
    );
    out.push(`── ${q.title}\n${q.sql}\n\n${table}`);
  }
  return out.join("\n");
});

export const summarize = Effect.gen(function* () {
  const ch = yield* ClickHouse;
  const [flows] = yield* ch.queryRows(`SELECT uniqExact(flow_id) AS flows, count() AS rows FROM ${DB}.flows`);
  const kinds = yield* ch.queryRows(`SELECT kind, uniqExact(id) AS n FROM ${DB}.anomalies GROUP BY kind ORDER BY kind`);
  const summary: Summary = {
    flows: Number(flows?.["flows"] ?? 0),
    anomalies_by_kind: Object.fromEntries(kinds.map((r) => [String(r["kind"]), Number(r["n"])])),
    clickhouse_flow_rows: Number(flows?.["rows"] ?? 0),
  };
  return summary;
});

export const nextSteps = (busHint: string): string =>
  [
    `How to go on (this run's flows and anomalies stay in ClickHouse database ${DB}):`,
    `  bin/netpulse services up clickhouse        # if the demo stopped it`,
    `  bin/netpulse query "SELECT kind, count() FROM ${DB}.anomalies GROUP BY kind"`,
    `  NETPULSE_CLICKHOUSE_DATABASE=${DB} bin/netpulse replay --clickhouse --from -15m --to now \\`,
    `      --manifests .netpulse/demo/cluster.json --output table     # the detector again over the stored flows`,
    `  NETPULSE_CLICKHOUSE_DATABASE=${DB} bin/netpulse backtest --clickhouse --from -15m --to now \\`,
    `      --manifests .netpulse/demo/cluster.json --baseline-rules .netpulse/demo/rules.yaml --rules YOURS.yaml`,
    `  ${busHint} bin/netpulse anomalies --follow   # live, from another terminal while the demo runs`,
    "  docs/queries.md has more questions as SQL; docs/detector.md explains each kind.",
  ].join("\n");
