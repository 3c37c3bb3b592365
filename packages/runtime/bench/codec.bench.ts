// Codec throughput: our bigint-long RawFlow batch codec against avsc with its default (lossy,
// number) long on the same schema, in the same run. Run: npx tsx packages/runtime/bench/codec.bench.ts
import avro from "avsc";
import { loadSchemaFile } from "../src/codec/avro.js";
import { RawFlowCodec } from "../src/codec/codecs.js";
import type { RawFlow } from "../src/records.js";

const BATCH = 1000;
const ROUNDS = 300;

const flow = (i: number): RawFlow => ({
  flow_id: BigInt(i) * 2654435761n + (1n << 61n),
  node: "node-a",
  start_ns: 1_763_713_496_000_000_000n + BigInt(i),
  end_ns: 1_763_713_501_000_000_000n + BigInt(i),
  src_ip: `10.1.${i % 250}.${i % 200}`,
  src_port: 30000 + (i % 30000),
  dst_ip: "10.2.0.9",
  dst_port: 5432,
  protocol: "TCP",
  direction: i % 2 === 0 ? "client" : "server",
  bytes_sent: BigInt(i * 1000),
  bytes_received: BigInt(i * 3),
  segs_sent: 10n,
  segs_received: 12n,
  retransmits: BigInt(i % 3),
  syn_retransmits: 0n,
  srtt_us: 1500,
  min_rtt_us: 900,
  max_rtt_us: 4000,
  state: "ESTABLISHED",
  close_reason: "open",
  netns: 4026531840n,
  cgroup_id: 123456789n,
  pid: 4242,
  comm: "postgres",
  sampling: 1,
});

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
  ["encode", rate(() => void plainArray.toBuffer(numberRecords)), rate(() => void RawFlowCodec.encodeBatch(records, { producer: "bench", sequence: 0n }))],
] as const;
console.log(`codec, ${BATCH}-record RawFlow batches, ${ourBytes.length / BATCH} B/record`);
console.log("op       avsc number-long rec/s   netpulse bigint rec/s   ratio");
for (const [op, base, ours] of rows) {
  console.log(`${op.padEnd(8)} ${Math.round(base).toLocaleString().padStart(22)} ${Math.round(ours).toLocaleString().padStart(23)}   ${(ours / base).toFixed(2)}`);
}
