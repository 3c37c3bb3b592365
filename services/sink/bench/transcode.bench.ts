// The sink's hot CPU path per row, against the codec in the same run: enriched-flow bus batches
// (Avro, 1000 records each) to Native columns straight from the bytes (what the service does, in
// the legacy dialect here; modern.ts measures the modern one), vs decoding them to records with
// the codec and encoding those (the path for records already decoded). No server involved.
//   node --expose-gc --import tsx services/sink/bench/transcode.bench.ts [rows=200000]
import * as Either from "effect/Either";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { encodeFlows } from "../src/rows/FlowRowBinary.js";
import { transcodeBatch } from "../src/rows/WireFlow.js";
import { makeFlows } from "../test/fixtures.js";

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = 7;
const messages = (() => {
  const rows = makeFlows(N, { idBase: 1n });
  return Array.from({ length: Math.ceil(N / 1000) }, (_, i) =>
    EnrichedFlowCodec.encodeBatch(rows.slice(i * 1000, (i + 1) * 1000), { producer: "bench", sequence: BigInt(i) }),
  );
})();
globalThis.gc?.();

const perRow = (work: () => number): number => {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const n = work();
    times.push(((performance.now() - t0) * 1000) / n);
  }
  return times.sort((a, b) => a - b)[ROUNDS >> 1]!;
};

const transcode = perRow(() => {
  let n = 0;
  for (const m of messages) n += Either.getOrThrow(transcodeBatch(m)).length;
  return n;
});
const codec = perRow(() => {
  let n = 0;
  for (const m of messages) {
    const { records } = Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m));
    n += encodeFlows(records, "legacy").encoded.length;
  }
  return n;
});
console.log(`${N} enriched flows in ${messages.length} batches, median of ${ROUNDS} rounds`);
console.log(`transcode Avro → columns        ${transcode.toFixed(2)} µs/row`);
console.log(`codec decode + encode records   ${codec.toFixed(2)} µs/row`);
console.log(`ratio transcode / codec path = ${(transcode / codec).toFixed(2)}`);
