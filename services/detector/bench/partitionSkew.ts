// Why the detector on Kafka emitted ~3.8x the anomaly records of NATS for the same 300 k flows in
// the e2e bench (docs/detector.md, known limits): the engine's watermark is the newest event time
// seen on ANY partition. A consumer that reads one partition far ahead of the others (kafkajs
// fetches up to 32 MiB per partition from a backlog) moves the watermark past the others' flows,
// so their episodes resolve early and reopen (flapping). This probe feeds one engine the same flows
// in time order and as per-partition fetches of growing size (8 partitions by workload pair):
//   npx tsx services/detector/bench/partitionSkew.ts
// Measured here (10 k pairs, 300 k flows): policy_denied openings 150 in time order, 150 with
// fetches of 500 flows a partition, 338 with 5 000, 3 270 with 40 000.
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
const run = (name: string, batches: EnrichedFlow[][]) => {
  const e = new DetectorEngine({ maxPairs: 100_000 });
  const by: Record<string, number> = {};
  for (const b of batches)
    for (const a of e.step({ _tag: "Flows", flows: b }, ctx))
      by[`${a.kind}/${a.status}`] = (by[`${a.kind}/${a.status}`] ?? 0) + 1;
  console.log(name, JSON.stringify(by));
};
const chunk = (xs: EnrichedFlow[], n: number) => {
  const out = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};
run("time order", chunk(flows, 250));
const parts: EnrichedFlow[][] = Array.from({ length: 8 }, () => []);
for (const f of flows) parts[shardOf(workloadPairKey(f), 8)]!.push(f);
for (const per of [500, 5000, 40000]) {
  const batches: EnrichedFlow[][] = [];
  const cur = parts.map(() => 0);
  let left = true;
  while (left) {
    left = false;
    for (let p = 0; p < 8; p++) {
      const s = parts[p]!.slice(cur[p], cur[p]! + per);
      cur[p]! += per;
      if (s.length) {
        left = true;
        batches.push(...chunk(s, 30));
      }
    }
  }
  run(`per-partition fetch of ${per}`, batches);
}
