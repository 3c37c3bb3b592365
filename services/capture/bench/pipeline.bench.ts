// User-space capacity of the capture: decode + windowing of kernel records (what one core can
// absorb before the loader's queue fills), for a churn mix (open + close per flow, RawFlow built
// on every close) and a long-flow mix (periodic records, windows built on ticks). Baseline in the
// same run: decoding alone.
//   npx tsx services/capture/bench/pipeline.bench.ts
import { applyChunk } from "../src/CapturePipeline.js";
import { CaptureStats } from "../src/CaptureStats.js";
import { decodeRecord } from "../src/FlowRecordDecoder.js";
import { RECORD_SIZE } from "../src/FlowRecordLayout.js";
import { FlowTable } from "../src/FlowTable.js";
import { flowRecord } from "../test/recordBuilder.js";

const RECORDS = 200_000;
const CHUNK = 340; // records per 64 KiB pipe read
const ROUNDS = 5;

const build = (kindOf: (i: number) => { kind: number; flowId: number }) => {
  const buf = Buffer.alloc(RECORDS * RECORD_SIZE);
  for (let i = 0; i < RECORDS; i++) {
    const { kind, flowId } = kindOf(i);
    flowRecord(
      {
        kind,
        flowId,
        tsNs: 1e9 + i * 1000,
        startNs: 1e9,
        lport: 1024 + (flowId % 60000),
        dBytesOut: 100,
        dBytesIn: 100,
        srttUs: 50,
        comm: "bench",
      },
      buf,
      i * RECORD_SIZE,
    );
  }
  return buf;
};

const churn = build((i) => ({ kind: i % 2 === 0 ? 1 : 3, flowId: 1 + Math.floor(i / 2) }));
const LONG_FLOWS = 10_000;
const long = build((i) => ({ kind: i < LONG_FLOWS ? 1 : 2, flowId: 1 + (i % LONG_FLOWS) }));

const rate = (buf: Buffer, tickEvery: number): number => {
  const table = new FlowTable({ node: "bench", maxFlows: 65_536 }, { offsetNs: 0n, fromLoader: true });
  const stats = new CaptureStats();
  const t0 = process.hrtime.bigint();
  let emitted = 0;
  for (let o = 0, n = 0; o < buf.length; o += CHUNK * RECORD_SIZE, n++) {
    emitted += applyChunk(
      table,
      { offsetNs: 0n, fromLoader: true },
      stats,
      buf.subarray(o, Math.min(buf.length, o + CHUNK * RECORD_SIZE)),
    ).length;
    if (tickEvery > 0 && n % tickEvery === 0) {
      const out: never[] = [];
      table.tick(2e9 + n, out);
      emitted += out.length;
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (emitted === 0) throw new Error("nothing emitted");
  return RECORDS / s;
};

const decodeOnly = (buf: Buffer): number => {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let o = 0; o < buf.length; o += RECORD_SIZE) if (decodeRecord(buf, o) !== undefined) n++;
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const runs = (f: () => number) => median(Array.from({ length: ROUNDS }, f));
const dec = runs(() => decodeOnly(churn));
const c = runs(() => rate(churn, 0));
const l = runs(() => rate(long, 50));
const k = (x: number) => `${(x / 1000).toFixed(0)} k records/s`;
console.log(`decode only (baseline):                 ${k(dec)}`);
console.log(
  `churn (open+close → RawFlow per close): ${k(c)}  = ${(c / 2 / 1000).toFixed(0)} k connections/s per end  (${(c / dec).toFixed(2)} of decode)`,
);
console.log(`long flows (periodic, tick windows):    ${k(l)}  (${(l / dec).toFixed(2)} of decode)`);
