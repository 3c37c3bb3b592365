// The watermark under partition skew (docs/detector.md, Time): one engine gets the same flows in
// time order, and as per-partition fetches of growing size (8 partitions by workload pair), once
// with one watermark for all (the source the same for every batch: what the engine did before
// EventClock) and once with a watermark per partition. With one watermark, a partition read ahead
// moves time past the others' flows and their episodes flap (the e2e bench on Kafka: ~3.8x the
// anomaly records of NATS).
//   npx tsx services/detector/bench/partitionSkew.ts
// Measured here (10 k pairs, 300 k flows): policy_denied openings 150 in time order; fetches of
// 5 000 flows a partition: 338 with one watermark, 150 per partition; 40 000 (the whole partition,
// 300 s of skew, past the 120 s bound): 3 270 either way.
import { shardOf } from "@netpulse/runtime/bus/shard";
import { workloadPairKey } from "@netpulse/runtime/flowKey";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { DetectorEngine, type EngineContext } from "../src/engine/Engine.js";
import { clusterObjects, policyEngineOf } from "./detectorCluster.js";
import { benchRules, Traffic } from "./detectorTraffic.js";

const policies = policyEngineOf(clusterObjects());
const traffic = new Traffic(policies, 10_000);
const ctx: EngineContext = { rules: benchRules(), policies };
const N = 300_000;
const flows: EnrichedFlow[] = [];
for (let i = 0; i < N; i++) flows.push(traffic.flow(i));
const run = (name: string, batches: ReadonlyArray<{ readonly flows: EnrichedFlow[]; readonly source: string }>) => {
  const e = new DetectorEngine({ maxPairs: 100_000 });
  const by: Record<string, number> = {};
  for (const b of batches)
    for (const a of e.step({ _tag: "Flows", flows: b.flows, source: b.source }, ctx))
      by[`${a.kind}/${a.status}`] = (by[`${a.kind}/${a.status}`] ?? 0) + 1;
  console.log(name, JSON.stringify(by));
};
const chunk = (xs: EnrichedFlow[], n: number) => {
  const out = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};
run(
  "time order",
  chunk(flows, 250).map((f) => ({ flows: f, source: "p" })),
);
const parts: EnrichedFlow[][] = Array.from({ length: 8 }, () => []);
for (const f of flows) parts[shardOf(workloadPairKey(f), 8)]!.push(f);
for (const per of [500, 5000, 40000]) {
  const batches: Array<{ flows: EnrichedFlow[]; source: string }> = [];
  const oneSource: Array<{ flows: EnrichedFlow[]; source: string }> = [];
  const cur = parts.map(() => 0);
  let left = true;
  while (left) {
    left = false;
    for (let p = 0; p < 8; p++) {
      const s = parts[p]!.slice(cur[p], cur[p]! + per);
      cur[p]! += per;
      if (s.length) {
        left = true;
        for (const c of chunk(s, 30)) {
          batches.push({ flows: c, source: `p${p}` });
          oneSource.push({ flows: c, source: "all" });
        }
      }
    }
  }
  run(`per-partition fetch of ${per}, one watermark`, oneSource);
  run(`per-partition fetch of ${per}, watermark per partition`, batches);
}
