// User-space memory per tracked flow: heap + ArrayBuffer growth after tracking N flows in the
// FlowTable (typed-array columns), against a Map of per-flow objects keyed by a 5-tuple string
// (what a straightforward implementation would hold) measured in the same run.
//   node --expose-gc --import tsx services/capture/bench/memory.bench.ts
// Goal: ≤ 160 B per tracked flow.
import { FlowTable } from "../src/FlowTable.js";
import { decodeFlow } from "../src/FlowRecordDecoder.js";
import { flowRecord } from "../test/recordBuilder.js";
import { writeResults } from "../../../bench/results.js";

const N = 65_536; // a power of two: the columns are exactly full, no doubling slack
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const buf = Buffer.alloc(192);
const recordFor = (id: number) =>
  decodeFlow(
    flowRecord(
      {
        kind: 1,
        flowId: id,
        tsNs: id,
        startNs: id,
        lport: 1024 + (id % 60000),
        laddr: [10, 0, (id >> 8) & 255, id & 255],
        comm: "curl",
      },
      buf,
    ),
    0,
  );

const measureTable = (): number => {
  const before = used();
  const table = new FlowTable({ node: "bench", maxFlows: N, initialCapacity: N }, { offsetNs: 0n });
  for (let id = 1; id <= N; id++) table.apply(recordFor(id), []);
  const after = used();
  if (table.size !== N) throw new Error(`tracked ${table.size}`);
  return (after - before) / N;
};

const measureMap = (): number => {
  const before = used();
  const map = new Map<string, Record<string, unknown>>();
  for (let id = 1; id <= N; id++) {
    const r = recordFor(id);
    map.set(`10.0.${(id >> 8) & 255}.${id & 255}:${r.lport}-10.0.0.2:80`, {
      flowId: r.flowId,
      family: r.family,
      direction: r.direction,
      state: r.state,
      flags: r.flags,
      closeReason: r.closeReason,
      lport: r.lport,
      rport: r.rport,
      laddr: "10.0.0.1",
      raddr: "10.0.0.2",
      pid: r.pid,
      netns: r.netns,
      cgroup: 1n,
      comm: "curl",
      startNs: r.startNs,
      sampling: 1,
      bytesOut: 0,
      bytesIn: 0,
      segsOut: 0,
      segsIn: 0,
      retrans: 0,
      syn: 0,
      srtt: 0,
      minRtt: 0,
      maxRtt: 0,
      dirty: true,
    });
  }
  const after = used();
  if (map.size !== N) throw new Error("map size");
  return (after - before) / N;
};

const runs = 5;
const table: number[] = [];
const map: number[] = [];
for (let i = 0; i < runs; i++) {
  table.push(measureTable());
  map.push(measureMap());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const t = median(table);
const m = median(map);
console.log(`flows tracked: ${N}`);
console.log(`FlowTable (typed-array columns): ${t.toFixed(1)} B/flow  (goal ≤ 160)`);
console.log(`Map of objects, 5-tuple key (baseline, same run): ${m.toFixed(1)} B/flow`);
console.log(`ratio: ${(t / m).toFixed(2)}`);
const file = await writeResults("capture-memory", {
  capture_bytes_per_flow: t,
  raw: { flows: N, runs, flowTableBytesPerFlow: table, mapBytesPerFlow: map, mapBaselineBytesPerFlow: m, ratio: t / m },
});
console.log(`wrote ${file}`);
