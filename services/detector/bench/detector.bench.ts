// Detector benchmark (issue 16's goals), every baseline measured in the same run:
// 1. throughput on one core: the detector's transform over enriched batches (10 k workload pairs,
//    all rules on, 1 000 NetworkPolicies over 5 000 pods) against merely decoding the same batches
//    (goal ≥ 0.5× decode), interleaved rounds, medians, A/A spreads;
// 2. bytes per tracked pair: the baselines' own (goal ≤ 64 B) and the whole engine's heap growth;
// 3. enriched-publish → anomaly-published latency at 100 k flows/s on NATS (goal p99 ≤ 25 ms), the
//    detector service as its own process; then again at a rate one detector process sustains here
//    (25 k flows/s by default), which separates the pipeline's own latency from queueing behind a
//    detector running past its capacity.
// Writes bench/results/detector.json.
//   node --expose-gc --import tsx services/detector/bench/detector.bench.ts   (or scripts/bench.sh detector)
// DETECTOR_BENCH_SECTIONS=throughput,memory,latency picks sections; DETECTOR_BENCH_RATE=<batches/s>
// changes the latency run's rate (a diagnostic), DETECTOR_BENCH_LOW_RATE=<batches/s> the second run's
// (0: no second run); DETECTOR_BENCH_PROFILE=<dir> profiles the service.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { clusterObjects, policyEngineOf } from "./detectorCluster.js";
import { measureLatency, type LatencyResult } from "./detectorLatency.js";
import { measureMemory, type MemoryResult } from "./detectorMemory.js";
import { kps, median, range } from "./detectorStats.js";
import { measureThroughput, type ThroughputResult } from "./detectorThroughput.js";
import { benchRules, Traffic } from "./detectorTraffic.js";

const sections = new Set((process.env["DETECTOR_BENCH_SECTIONS"] ?? "throughput,memory,latency").split(","));
const RATE = Number(process.env["DETECTOR_BENCH_RATE"] ?? 100); // batches of 1 000 per second
const LOW_RATE = Number(process.env["DETECTOR_BENCH_LOW_RATE"] ?? 25);
const resultsFile = fileURLToPath(new URL("../../../bench/results/detector.json", import.meta.url));

const met = (ok: boolean): string => (ok ? "met" : "NOT met");
const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "∞");
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

const objects = clusterObjects();
const policies = policyEngineOf(objects);
const rules = benchRules();
const traffic = new Traffic(policies, 10_000);
const c = traffic.counts;
console.log(
  `workload: ${traffic.pairs.length} workload pairs (${c.normal} allowed, ${c.denied} denied, ${c.unprotected} ` +
    `into unprotected pods), ${policies.counts.policies} policies, ${policies.counts.pods} pods, all rules on; ` +
    `load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cpus`,
);

let throughput: ThroughputResult | undefined;
if (sections.has("throughput")) {
  const t = (throughput = await measureThroughput(traffic, rules, policies, {
    rounds: 8,
    batchesPerRound: 30,
    warmCycles: 22,
  }));
  const anomalies = t.rounds.reduce((a, r) => a + r.anomalies, 0);
  const flows = t.rounds.length * 30_000;
  console.log(
    `\nthroughput, one core (${t.rounds.length} rounds of 30 000 flows: decode, detect, decode; ` +
      `${t.bytesPerFlow.toFixed(0)} B/flow encoded)\n` +
      `  decode only (EnrichedFlowCodec.decodeBatch)   ${kps(t.decodePerS).padStart(9)}   A/A before/after ${range(t.aaDecode)}\n` +
      `  detector transform (runOffline)              ${kps(t.detectPerS).padStart(9)}   A/A round to round ${range(t.aaDetect)}; ` +
      `${median(t.rounds.map((r) => r.detectCpu)).toFixed(2)} cpu/wall\n` +
      `  engine.step alone, pre-decoded (diagnostic) ${kps(t.stepOnlyPerS).padStart(9)}\n` +
      `  detector_vs_decode  ${median(t.ratios).toFixed(3)} (rounds ${range(t.ratios)})   goal ≥ 0.5: ${met(median(t.ratios) >= 0.5)}\n` +
      `  anomaly records out: ${((anomalies / flows) * 100).toFixed(2)} % of flows ${JSON.stringify(t.anomaliesByKind)}; ` +
      `warm-up ${JSON.stringify(t.warmAnomaliesByKind)}`,
  );
}

const memory: MemoryResult[] = [];
if (sections.has("memory")) {
  // Its own policy engine with the verdict cache off: the verdicts the detector keeps are its own.
  const uncached = policyEngineOf(objects, { cacheSize: 0 });
  memory.push(measureMemory(traffic, rules, uncached));
  memory.push(measureMemory(new Traffic(policies, 100_000), rules, uncached));
  console.log("\nbytes per tracked pair (heap + array buffers)");
  for (const m of memory)
    console.log(
      `  ${String(m.pairs).padStart(6)} pairs: baselines ${m.baselineBytesPerPair.toFixed(1)} B ` +
        `(goal ≤ 64: ${met(m.baselineBytesPerPair <= 64)}); whole engine ${m.engineBytesPerPair.toFixed(0)} B with the ` +
        `policy audit, ${m.engineNoPolicyBytesPerPair.toFixed(0)} B without (${m.openEpisodes} open episodes, ` +
        `${m.copies} engine${m.copies > 1 ? "s" : ""})`,
    );
}

const printLatency = (l: LatencyResult, goal: boolean) =>
  console.log(
    `\nlatency on NATS, enriched publish → anomaly published (${kps(l.askedPerS)} asked, ${kps(l.publishedPerS)} ` +
      `published open loop; sends late p99 ${l.sendLateP99Ms.toFixed(1)} ms)\n` +
      `  p50 ${ms(l.p50Ms)}  p90 ${ms(l.p90Ms)}  p99 ${ms(l.p99Ms)}  max ${ms(l.maxMs)}  ` +
      `(${l.matched}/${l.probes} probes matched; broker timestamps in whole ms)` +
      (goal ? `   goal p99 ≤ 25 ms: ${met(l.p99Ms <= 25)}` : "") +
      `\n  detector: ${l.detectorCores.toFixed(2)} cores, anomalies came out at ${kps(l.detectedPerS)} of flows; ` +
      `enriched publish ack p50 ${l.publishAckP50Ms.toFixed(1)} ms, p99 ${l.publishAckP99Ms.toFixed(1)} ms`,
  );
const latencyAt = (batchesPerS: number) => measureLatency(policies, objects, { batchesPerS, warmS: 2, measureS: 20 });
const latencyJson = (l: LatencyResult | undefined) =>
  l === undefined
    ? null
    : { ...l, p50Ms: finite(l.p50Ms), p90Ms: finite(l.p90Ms), p99Ms: finite(l.p99Ms), maxMs: finite(l.maxMs) };

let latency: LatencyResult | undefined;
let latencyLow: LatencyResult | undefined;
if (sections.has("latency")) {
  printLatency((latency = await latencyAt(RATE)), true);
  if (LOW_RATE > 0) printLatency((latencyLow = await latencyAt(LOW_RATE)), false);
}

const baselineBytes = memory.length === 0 ? undefined : Math.max(...memory.map((m) => m.baselineBytesPerPair));
await mkdir(dirname(resultsFile), { recursive: true });
await writeFile(
  resultsFile,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadavg: loadavg(),
      detector_flows_per_s: throughput?.detectPerS ?? null,
      decode_flows_per_s: throughput?.decodePerS ?? null,
      detector_vs_decode: throughput === undefined ? null : median(throughput.ratios),
      detector_bytes_per_pair: baselineBytes ?? null,
      anomaly_latency_p50_ms: latency === undefined ? null : finite(latency.p50Ms),
      anomaly_latency_p99_ms: latency === undefined ? null : finite(latency.p99Ms),
      anomaly_latency_low_rate_flows_per_s: latencyLow?.askedPerS ?? null,
      anomaly_latency_low_rate_p99_ms: latencyLow === undefined ? null : finite(latencyLow.p99Ms),
      raw: {
        throughput: throughput === undefined ? null : { ...throughput, engine: undefined },
        memory,
        latency: latencyJson(latency),
        latencyLowRate: latencyJson(latencyLow),
      },
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${resultsFile}`);
