// Codec throughput: our bigint-long RawFlow batch codec against avsc with its default (lossy,
// number) long on the same schema, in the same run. Run: npx tsx packages/runtime/bench/codec.bench.ts
import avro from "avsc";
import { loadSchemaFile } from "../src/codec/avro.js";
import { RawFlowCodec } from "../src/codec/codecs.js";
import { variedFlow } from "../../../test/support/rawFlow.js";

const BATCH = 1000;
const ROUNDS = 300;

const flow = variedFlow;

const records = Array.from({ length: BATCH }, (_, i) => flow(i));
// avsc refuses longs beyond 2^53 (that is the point of bigint); the baseline gets values folded below it.
const numberRecords = records.map((r) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v % (1n << 52n)) : v])),
);
const plainArray = avro.Type.forSchema({ type: "array", items: loadSchemaFile("raw-flow.v1.avsc") } as never);

const rate = (fn: () => void): number => {
  for (let i = 0; i < 20; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (ROUNDS * BATCH) / s;
};

const ourBytes = RawFlowCodec.encodeBatch(records, { producer: "bench", sequence: 0n });
const plainBytes = plainArray.toBuffer(numberRecords);
const rows = [
  ["decode", rate(() => void plainArray.fromBuffer(plainBytes)), rate(() => void RawFlowCodec.decodeBatch(ourBytes))],
  [
    "encode",
    rate(() => void plainArray.toBuffer(numberRecords)),
    rate(() => void RawFlowCodec.encodeBatch(records, { producer: "bench", sequence: 0n })),
  ],
] as const;
console.log(`codec, ${BATCH}-record RawFlow batches, ${ourBytes.length / BATCH} B/record`);
console.log("op       avsc number-long rec/s   netpulse bigint rec/s   ratio");
for (const [op, base, ours] of rows) {
  console.log(
    `${op.padEnd(8)} ${Math.round(base).toLocaleString().padStart(22)} ${Math.round(ours).toLocaleString().padStart(23)}   ${(ours / base).toFixed(2)}`,
  );
}
