// The sink's write path for modern servers, measured without a server of that kind (the one here
// is 18.16; the modern engine is chdb, embedded, with no HTTP endpoint for the sink to post to):
//   1. the encoder, bus messages (Avro, 1000 records each) to insert bodies of 50 k rows, in
//      rounds, the three paths in turn: Avro → Native columns (what the sink sends a modern
//      server now), Avro → records → RowBinary (what it sent before), and the legacy Native path;
//   2. chdb inserting the same rows into the modern DDL's netpulse.flows, from the Native bodies
//      the sink made and from a RowBinary file (the server parsing the rows itself, as
//      clickhouse-client's input does), in rounds, a fresh chdb each round.
// sink_vs_clickhouse_client_modern is (encode + insert the Native bodies) against inserting the
// RowBinary file: the sink's path to stored rows against the engine's own load of the same rows.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Either from "effect/Either";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { encodeFlows } from "../src/rows/FlowRowBinary.js";
import { makeWireFlowEncoder } from "../src/rows/WireFlowEncoder.js";
import { insertNames, sqlType } from "../src/schema/columns.js";
import { migrations } from "../src/schema/migrations.js";
import { flows } from "../src/schema/tables.js";
import { defaults } from "../src/SinkConfig.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const script = new URL("../../../scripts/chdb-check.py", import.meta.url).pathname;

export interface ModernFigures {
  readonly sink_native_modern_rows_per_s: number;
  readonly sink_rowbinary_modern_rows_per_s: number;
  readonly sink_native_legacy_rows_per_s: number;
  readonly sink_native_vs_rowbinary_modern: number;
  /** chdb's INSERT of the sink's Native bodies, and of the same rows as RowBinary. */
  readonly chdb_insert_native_rows_per_s: number | null;
  readonly chdb_insert_rowbinary_rows_per_s: number | null;
  /** The Native encoder against chdb ingesting what it made (≥ 1: the encoder is not the bound). */
  readonly sink_modern_encoder_vs_chdb_insert: number | null;
  /** (encode + chdb insert of Native) against chdb inserting the RowBinary file. */
  readonly sink_vs_clickhouse_client_modern: number | null;
  readonly raw: Record<string, unknown>;
}

export const modernFigures = (
  rows: ReadonlyArray<EnrichedFlow>,
  rounds: number,
  python: string,
  log: (line: string) => void,
): ModernFigures => {
  const n = rows.length;
  const messages = Array.from({ length: Math.ceil(n / 1000) }, (_, i) =>
    EnrichedFlowCodec.encodeBatch(rows.slice(i * 1000, (i + 1) * 1000), { producer: "bench", sequence: BigInt(i) }),
  );
  const perBatch = Math.max(1, Math.round(defaults.batchRows / 1000));
  const batches = Array.from({ length: Math.ceil(messages.length / perBatch) }, (_, b) =>
    messages.slice(b * perBatch, (b + 1) * perBatch),
  );
  const native = (d: "modern" | "legacy") => {
    const enc = makeWireFlowEncoder("netpulse", d);
    return () => batches.map((ms) => enc.encode(ms.flatMap((m) => Either.getOrThrow(enc.decode(m)))).body);
  };
  const rowBinary = () =>
    batches.map(
      (ms) =>
        encodeFlows(
          ms.flatMap((m) => Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m)).records),
          "modern",
        ).body,
    );
  const paths = { native: native("modern"), rowbinary: rowBinary, legacy: native("legacy") };
  const times: Record<keyof typeof paths, number[]> = { native: [], rowbinary: [], legacy: [] };
  let nativeBodies: Buffer[] = [];
  let rowBinaryBodies: Buffer[] = [];
  // one unmeasured pass each (JIT), then the rounds, the order turned round every round
  for (const run of Object.values(paths)) run();
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(paths) as (keyof typeof paths)[];
    for (const k of r % 2 === 0 ? order : order.reverse()) {
      globalThis.gc?.();
      const t0 = performance.now();
      const bodies = paths[k]();
      times[k].push(performance.now() - t0);
      if (k === "native") nativeBodies = bodies;
      if (k === "rowbinary") rowBinaryBodies = bodies;
    }
  }
  const rate = (ms: number[]) => (n / median(ms)) * 1000;
  const nativeRate = rate(times.native);
  const rowBinaryRate = rate(times.rowbinary);
  const legacyRate = rate(times.legacy);
  log(`modern encoder, Avro → Native (the sink's path now)        ${(nativeRate / 1e6).toFixed(3)} M rows/s`);
  log(`modern encoder, Avro → records → RowBinary (before)        ${(rowBinaryRate / 1e6).toFixed(3)} M rows/s`);
  log(`legacy encoder, Avro → Native (18.16 servers)              ${(legacyRate / 1e6).toFixed(3)} M rows/s`);
  log(`ratio Native / RowBinary (modern) = ${(nativeRate / rowBinaryRate).toFixed(2)}`);

  // chdb inserting the same rows: the sink's Native bodies, one file of blocks; RowBinary, one file
  const probe = spawnSync(python, ["-c", "import chdb"], { encoding: "utf8" });
  const base = {
    sink_native_modern_rows_per_s: nativeRate,
    sink_rowbinary_modern_rows_per_s: rowBinaryRate,
    sink_native_legacy_rows_per_s: legacyRate,
    sink_native_vs_rowbinary_modern: nativeRate / rowBinaryRate,
  };
  const rawEncode = { rows: n, batch_rows: perBatch * 1000, rounds, encode_ms: times };
  if (probe.status !== 0) {
    log(`chdb not available to ${python}: no modern insert figures`);
    return {
      ...base,
      chdb_insert_native_rows_per_s: null,
      chdb_insert_rowbinary_rows_per_s: null,
      sink_modern_encoder_vs_chdb_insert: null,
      sink_vs_clickhouse_client_modern: null,
      raw: rawEncode,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "netpulse-bench-chdb-"));
  try {
    const nativeFile = join(dir, "flows.native");
    const rowBinaryFile = join(dir, "flows.rowbinary");
    writeFileSync(nativeFile, Buffer.concat(nativeBodies));
    writeFileSync(rowBinaryFile, Buffer.concat(rowBinaryBodies));
    nativeBodies = [];
    rowBinaryBodies = [];
    const columns = insertNames(flows.columns)
      .map((c) => `\`${c}\``)
      .join(", ");
    const structure = flows.columns
      .flatMap((c) =>
        c.type === "Labels"
          ? [`\`${c.name}.key\` Array(String)`, `\`${c.name}.value\` Array(String)`]
          : [`${c.name} ${sqlType(c.type, "modern")}`],
      )
      .join(", ");
    const dbs = { Native: "bench_native", RowBinary: "bench_rowbinary" } as const;
    const insert: Record<"Native" | "RowBinary", number[]> = { Native: [], RowBinary: [] };
    for (let r = 0; r < rounds; r++) {
      const formats: (keyof typeof dbs)[] = r % 2 === 0 ? ["Native", "RowBinary"] : ["RowBinary", "Native"];
      const input = {
        statements: Object.values(dbs).flatMap((db) => [
          `CREATE DATABASE IF NOT EXISTS ${db}`,
          ...migrations.flatMap((m) => m.statements("modern", db)),
        ]),
        loads: formats.map((format) => ({
          table: `${dbs[format]}.flows`,
          columns,
          structure,
          format,
          file: format === "Native" ? nativeFile : rowBinaryFile,
        })),
        queries: Object.values(dbs).map((db) => ({ title: db, sql: `SELECT count() FROM ${db}.flows` })),
      };
      const out = spawnSync(python, [script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 64 << 20 });
      if (out.status !== 0) throw new Error(`chdb-check.py failed: ${out.stderr}`);
      const res = JSON.parse(out.stdout) as {
        setup_error: string | null;
        loads: { format: keyof typeof dbs; seconds: number }[];
        results: { data: unknown[][] }[];
      };
      if (res.setup_error !== null) throw new Error(`chdb: ${res.setup_error}`);
      for (const q of res.results)
        if (Number(q.data[0]![0]) !== n) throw new Error(`chdb stored ${String(q.data[0]![0])} rows of ${n}`);
      for (const l of res.loads) insert[l.format].push(l.seconds * 1000);
    }
    const chNative = rate(insert.Native);
    const chRowBinary = rate(insert.RowBinary);
    const sinkMs = median(times.native) + median(insert.Native);
    const viaSink = (n / sinkMs) * 1000;
    log(`chdb INSERT of the sink's Native bodies                    ${(chNative / 1e6).toFixed(3)} M rows/s`);
    log(`chdb INSERT of the same rows as RowBinary (its own parse)  ${(chRowBinary / 1e6).toFixed(3)} M rows/s`);
    log(`ratio modern encoder / chdb Native insert = ${(nativeRate / chNative).toFixed(2)}`);
    log(
      `ratio (encode + Native insert) / RowBinary insert = ${(viaSink / chRowBinary).toFixed(2)} ` +
        `(sink_vs_clickhouse_client_modern, goal >= 0.8)`,
    );
    return {
      ...base,
      chdb_insert_native_rows_per_s: chNative,
      chdb_insert_rowbinary_rows_per_s: chRowBinary,
      sink_modern_encoder_vs_chdb_insert: nativeRate / chNative,
      sink_vs_clickhouse_client_modern: viaSink / chRowBinary,
      raw: { ...rawEncode, chdb_insert_ms: insert, sink_encode_plus_insert_ms: sinkMs },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
