// Merges every bench/results/<section>.json into bench/results/latest.json (each section's
// top-level figures side by side, its raw numbers under raw.<section>, when and under what load it
// ran under sections.<section>) and prints one table: key, value, goal, met/missed. The keys issue
// 19 asks for come first, "MISSING" when no section wrote them; then every other figure. A
// section written before this run started (BENCH_RUN_STARTED, ms since the epoch, set by
// scripts/bench.sh) is merged but marked as earlier.
//   node --import tsx bench/aggregate.ts
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { resultsDir } from "./results.js";

type Goal = { readonly op: "≥" | "≤"; readonly value: number };
const atLeast = (value: number): Goal => ({ op: "≥", value });
const atMost = (value: number): Goal => ({ op: "≤", value });

/** The figures issue 19 names, in the table's order, with their goals (undefined: a figure, no goal). */
const REQUIRED: ReadonlyArray<readonly [string, Goal | undefined]> = [
  ["e2e_flows_per_s_nats", undefined],
  ["e2e_flows_per_s_kafka", undefined],
  ["e2e_vs_slowest_stage_nats", atLeast(0.8)],
  ["e2e_vs_slowest_stage_kafka", atLeast(0.8)],
  ...["enricher", "detector", "sink"].flatMap((s): Array<readonly [string, Goal | undefined]> => [
    [`stage_flows_per_s_${s}_nats`, undefined],
    [`stage_flows_per_s_${s}_kafka`, undefined],
    [`core_s_per_mflow_${s}`, undefined],
  ]),
  ["core_s_per_mflow_nats_server", undefined],
  ["core_s_per_mflow_kafka_broker", undefined],
  ["core_s_per_mflow_clickhouse", undefined],
  ["sink_vs_clickhouse_client", atLeast(0.8)],
  ["detector_vs_decode", atLeast(0.5)],
  ["detector_flows_per_s", undefined],
  ["detector_bytes_per_pair", atMost(64)],
  ["anomaly_latency_p99_ms", atMost(25)],
  // the same at a rate one detector process sustains here: the pipeline's latency without a backlog
  ["anomaly_latency_low_rate_p99_ms", undefined],
  ["anomaly_latency_low_rate_flows_per_s", undefined],
  ["capture_latency_overhead", atMost(0.03)],
  // false: too few undisturbed off/on pairs, the overhead above is the machine's noise
  ["capture_latency_trustworthy", undefined],
  ["capture_bytes_per_flow", atMost(160)],
  ["kafka_bus_vs_kafkajs", atLeast(0.8)],
  ...["enricher", "detector", "sink", "nats_server", "kafka_broker", "clickhouse"].map(
    (s) => [`peak_rss_mb_${s}`, undefined] as const,
  ),
];

/** Goals of figures other sections print that the table should judge too. */
const OTHER_GOALS: Readonly<Record<string, Goal>> = {
  replay_file_vs_detector: atLeast(0.8),
  replay_nats_vs_detector: atLeast(0.8),
  replay_kafka_vs_detector: atLeast(0.8),
};

/**
 * Keys whose null means "never happened" rather than "not measured": the detector bench writes
 * a p99 of null when probes never came back within its wait (infinitely late).
 */
const NULL_IS_INFINITE = new Set([
  "anomaly_latency_p99_ms",
  "anomaly_latency_p50_ms",
  "anomaly_latency_low_rate_p99_ms",
]);
const META = new Set(["at", "node", "cpus", "loadavg", "raw"]);

const runStarted = Number(process.env["BENCH_RUN_STARTED"] ?? 0);
const files = readdirSync(resultsDir).filter((f) => f.endsWith(".json") && f !== "latest.json");
const figures: Record<string, unknown> = {};
const source: Record<string, string> = {};
const sections: Record<string, unknown> = {};
const raw: Record<string, unknown> = {};
for (const f of files.sort()) {
  const section = f.slice(0, -".json".length);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as Record<string, unknown>;
  } catch (e) {
    console.log(`bench/results/${f}: not JSON (${String(e)}), left out`);
    continue;
  }
  const at = typeof doc["at"] === "string" ? doc["at"] : undefined;
  const earlier = at === undefined || Date.parse(at) < runStarted;
  sections[section] = { at: at ?? null, loadavg: doc["loadavg"] ?? null, earlier };
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (META.has(k)) continue;
    if (typeof v === "number" || v === null || typeof v === "string" || typeof v === "boolean") {
      figures[k] = v;
      source[k] = section;
    } else rest[k] = v;
  }
  raw[section] = { ...(doc["raw"] as object | undefined), ...rest };
}

const latest = { at: new Date().toISOString(), cpus: cpus().length, sections, ...figures, raw };
const latestFile = join(resultsDir, "latest.json");
writeFileSync(latestFile, JSON.stringify(latest, null, 2) + "\n");

const show = (v: unknown): string => {
  if (typeof v !== "number") return v === undefined ? "MISSING" : JSON.stringify(v);
  const a = Math.abs(v);
  return a >= 1000 ? Math.round(v).toLocaleString("en-US") : a >= 10 ? v.toFixed(1) : v.toFixed(3);
};
/** A figure whose section says it is noise (a boolean key false) is judged as such, not met/missed. */
const TRUST: Readonly<Record<string, string>> = { capture_latency_overhead: "capture_latency_trustworthy" };
const judge = (k: string, v: unknown, goal: Goal | undefined): string => {
  if (goal === undefined) return "";
  const trust = TRUST[k];
  if (trust !== undefined && figures[trust] === false) return "noise";
  const x = v === null && NULL_IS_INFINITE.has(k) ? Infinity : v;
  if (typeof x !== "number" || Number.isNaN(x)) return "not measured";
  return (goal.op === "≥" ? x >= goal.value : x <= goal.value) ? "met" : "missed";
};
const rows: string[][] = [];
const seen = new Set<string>();
const add = (k: string, goal: Goal | undefined) => {
  seen.add(k);
  const v = figures[k];
  const shown = v === null && NULL_IS_INFINITE.has(k) ? "∞ (not all seen)" : show(v);
  const from = source[k];
  const earlier = from !== undefined && (sections[from] as { earlier: boolean }).earlier;
  rows.push([
    k,
    shown,
    goal === undefined ? "" : `${goal.op} ${goal.value}`,
    judge(k, v, goal),
    from === undefined ? "" : `${from}${earlier ? " (earlier run)" : ""}`,
  ]);
};
for (const [k, goal] of REQUIRED) add(k, goal);
rows.push(["", "", "", "", ""]);
for (const k of Object.keys(figures).sort()) if (!seen.has(k)) add(k, OTHER_GOALS[k]);

const head = ["key", "value", "goal", "", "from"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
console.log(`\n${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
for (const r of rows) console.log(line(r).trimEnd());
const missed = rows.filter((r) => r[3] === "missed").length;
const met = rows.filter((r) => r[3] === "met").length;
const missing = REQUIRED.filter(([k]) => !(k in figures)).length;
console.log(`\ngoals met ${met}, missed ${missed}; required keys missing ${missing}; wrote ${latestFile}`);
