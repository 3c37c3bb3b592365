// The modern-server half of "same queries on both", and the sink's modern write path checked by a
// modern engine: applies the modern DDL of every migration to an embedded current ClickHouse
// (chdb, via scripts/chdb-check.py), loads flows as the Native blocks the sink sends a modern
// server (transcoded from Avro: LowCardinality(String), IPv6) and the other tables as RowBinary,
// and runs every cookbook query; then has chdb read the sink's Native blocks of edge-case flows
// back, every column of every row compared with the records. Skips loudly when python3 or chdb
// is missing, unless NETPULSE_REQUIRE_CHDB=1.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { encodeFlows } from "../services/sink/src/rows/FlowRowBinary.js";
import { flowColumns } from "../services/sink/src/rows/FlowTranscoder.js";
import { ipv6Bytes, makeRowEncoder } from "../services/sink/src/rows/RowEncoder.js";
import { transcodeBatch, type WireFlow } from "../services/sink/src/rows/WireFlow.js";
import { makeWireFlowEncoder } from "../services/sink/src/rows/WireFlowEncoder.js";
import { insertNames, sqlType } from "../services/sink/src/schema/columns.js";
import { migrations } from "../services/sink/src/schema/migrations.js";
import { anomalies, flows, nodeStats, type TableSpec } from "../services/sink/src/schema/tables.js";
import { cookbookData, cookbookQueries, inlined } from "../services/sink/test/cookbook.js";
import { makeFlows } from "../services/sink/test/fixtures.js";

const DB = "netpulse";
const script = new URL("../scripts/chdb-check.py", import.meta.url).pathname;
const python = process.env["NETPULSE_PYTHON"] ?? "python3";
const probe = spawnSync(python, ["-c", "import chdb"], { encoding: "utf8" });
const available = probe.status === 0;
const required = process.env["NETPULSE_REQUIRE_CHDB"] === "1";
if (!available)
  console.warn(
    `SKIPPING chdb check: ${python} with chdb not available (${probe.stderr.trim().split("\n").pop() ?? ""}); pip install chdb`,
  );

const structure = <R>(spec: TableSpec<R>) =>
  spec.columns
    .flatMap((c) =>
      c.type === "Labels"
        ? [`\`${c.name}.key\` Array(String)`, `\`${c.name}.value\` Array(String)`]
        : [`${c.name} ${sqlType(c.type, "modern")}`],
    )
    .join(", ");

const quotedNames = <R>(spec: TableSpec<R>) =>
  insertNames(spec.columns)
    .map((n) => `\`${n}\``)
    .join(", ");

interface ChdbInput {
  readonly statements: ReadonlyArray<string>;
  readonly loads: ReadonlyArray<Record<string, string>>;
  readonly queries: ReadonlyArray<{ readonly title: string; readonly sql: string }>;
}
interface ChdbResult {
  readonly title: string;
  readonly rows: number;
  readonly data: unknown[][];
  readonly error: string | null;
}

const runChdb = (input: ChdbInput) => {
  if (process.env["NETPULSE_CHDB_DUMP"] !== undefined)
    writeFileSync(process.env["NETPULSE_CHDB_DUMP"], JSON.stringify(input));
  const r = spawnSync(python, [script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 256 << 20 });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { version: string; setup_error: string | null; results: ChdbResult[] };
  expect(out.setup_error).toBeNull();
  expect(Number(out.version.split(".")[0])).toBeGreaterThanOrEqual(22);
  return out;
};

/** The flows as the sink's modern path writes them: Avro messages of `per` records → one Native body. */
const nativeFlows = (records: ReadonlyArray<EnrichedFlow>, per = 1000): Buffer => {
  const enc = makeWireFlowEncoder(DB, "modern");
  const wire: WireFlow[] = [];
  for (let i = 0; i < records.length; i += per) {
    const avro = EnrichedFlowCodec.encodeBatch(records.slice(i, i + per), { producer: "t", sequence: BigInt(i) });
    wire.push(...Either.getOrThrow(transcodeBatch(avro, "modern")));
  }
  const out = enc.encode(wire);
  expect(out.rejected).toEqual([]);
  expect(out.encoded.length).toBe(records.length);
  return out.body;
};

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Flows with every edge the columns have: extreme numbers, empty and UTF-8 strings, IP forms. */
const edgeFlows = (): EnrichedFlow[] => {
  const ips = [
    "2001:db8::1",
    "::ffff:1.2.3.4",
    "010.0.0.1",
    "fe80::1%eth0",
    "0.0.0.0",
    "255.255.255.255",
    "::",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "192.168.1.1",
  ];
  return makeFlows(3000).map((r, i) => {
    if (i < ips.length) return { ...r, src_ip: ips[i]!, dst_ip: ips[ips.length - 1 - i]! };
    switch (i) {
      case 10:
        return { ...r, start_ns: 0n, end_ns: 0n };
      case 11:
        return { ...r, flow_id: INT64_MAX, start_ns: INT64_MAX, end_ns: INT64_MAX, bytes_sent: INT64_MAX };
      case 12:
        return { ...r, flow_id: INT64_MIN, start_ns: INT64_MIN, end_ns: INT64_MIN, netns: INT64_MIN };
      case 13:
        return {
          ...r,
          node: "",
          comm: "",
          protocol: "",
          state: "",
          src: { ...r.src, pod: "", namespace: "", labels: { "": "" }, external_name: "" },
          dst: { ...r.dst, labels: {} },
        };
      case 14:
        return {
          ...r,
          comm: "nginx: wörker ✓",
          src: { ...r.src, namespace: "名前空間", labels: { "app.kubernetes.io/name": "ünïcödé ✓", "🔥": "x" } },
          dst: { ...r.dst, host_network: true, workload_name: "ü".repeat(200) },
        };
      case 15:
        return { ...r, src_port: 0, dst_port: 65535, srtt_us: -1, min_rtt_us: 2 ** 31 - 1, pid: -(2 ** 31) };
      default:
        // a dictionary past 256 keys (UInt16 indexes) in one column
        return i % 2 === 0 ? { ...r, src: { ...r.src, pod: `p${i}` }, comm: `comm-${i % 700}` } : r;
    }
  });
};

/** A flow's row as chdb prints it in JSONCompact (Int64 quoted, IPv6 as hex of its 16 bytes). */
const printed = (r: EnrichedFlow): unknown[] =>
  flows.columns.flatMap((c) => {
    const v = c.get(r);
    switch (c.type) {
      case "Int64":
        return [String(v)];
      case "Bool":
        return [v ? 1 : 0];
      case "IP":
        return [
          Buffer.from(ipv6Bytes(v as string)!)
            .toString("hex")
            .toUpperCase(),
        ];
      case "Labels":
        return [Object.keys(v as object), Object.values(v as object)];
      default:
        return [v];
    }
  });

describe.skipIf(!available && !required)("modern ClickHouse (chdb): DDL, encoders and cookbook", () => {
  it("creates the schema, loads the sink's data and runs every cookbook query", () => {
    const dir = mkdtempSync(join(tmpdir(), "netpulse-chdb-"));
    try {
      const data = cookbookData();
      const load = <R>(spec: TableSpec<R>, rows: ReadonlyArray<R>) => {
        const enc = makeRowEncoder(spec, "modern", DB);
        const { body, rejected } = enc.encode(rows);
        expect(rejected).toEqual([]);
        const file = join(dir, `${spec.name}.bin`);
        writeFileSync(file, body);
        return { table: `${DB}.${spec.name}`, columns: quotedNames(spec), structure: structure(spec), file };
      };
      // flows as the sink writes them to a modern server: Native blocks transcoded from Avro
      const flowsFile = join(dir, "flows.native");
      writeFileSync(flowsFile, nativeFlows(data.flows, 7));
      const out = runChdb({
        statements: [`CREATE DATABASE IF NOT EXISTS ${DB}`, ...migrations.flatMap((m) => m.statements("modern", DB))],
        loads: [
          { table: `${DB}.flows`, columns: quotedNames(flows), file: flowsFile, format: "Native" },
          load(anomalies, data.anomalies),
          load(nodeStats, data.heartbeats),
        ],
        queries: [
          {
            title: "flows stored",
            sql:
              `SELECT count(), countIf(toTypeName(src_ip) = 'IPv6'), any(toString(src_ip)), toTypeName(any(start_time)), ` +
              `countIf(toUnixTimestamp64Nano(start_time) = start_ns AND toUnixTimestamp64Nano(end_time) = end_ns) ` +
              `FROM ${DB}.flows`,
          },
          ...cookbookQueries().map((q) => ({ title: q.title, sql: inlined(q.sql, DB) })),
        ],
      });
      const [stored, ...cookbook] = out.results;
      const n = data.flows.length;
      expect(stored!.data[0]!.map(String)).toEqual([
        String(n),
        String(n),
        "::ffff:10.0.0.1",
        "DateTime64(9)",
        String(n),
      ]);
      for (const q of cookbook)
        expect({ title: q.title, error: q.error, hasRows: q.rows > 0 }).toEqual({
          title: q.title,
          error: null,
          hasRows: true,
        });
      console.log(`chdb ${out.version}: ${n} flows loaded as Native, ${cookbook.length} cookbook queries with rows`);
    } finally {
      if (process.env["NETPULSE_CHDB_DUMP"] === undefined) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the sink's Native blocks back as the records, every column of every row", () => {
    const dir = mkdtempSync(join(tmpdir(), "netpulse-chdb-"));
    try {
      const edge = edgeFlows();
      const edgeNative = join(dir, "edge.native");
      const edgeRowBinary = join(dir, "edge.rowbinary");
      writeFileSync(edgeNative, nativeFlows(edge, 400));
      writeFileSync(edgeRowBinary, encodeFlows(edge, "modern").body);
      // UInt32 indexes: more than 65536 distinct comm (and 300 node) values, across messages
      const BIG = 70_000;
      const big = makeFlows(BIG).map((r, i) => ({ ...r, comm: `c${i}`, node: `n${i % 300}` }));
      const bigNative = join(dir, "big.native");
      writeFileSync(bigNative, nativeFlows(big, 10_000));
      const native = (f: string) => `file('${f}', 'Native')`;
      const cols = flowColumns("modern");
      const select = cols.map((c) => (c.type === "IPv6" ? `hex(\`${c.name}\`)` : `\`${c.name}\``)).join(", ");
      const out = runChdb({
        statements: [],
        loads: [],
        queries: [
          {
            title: "types",
            sql: `SELECT ${cols.map((c) => `toTypeName(\`${c.name}\`)`).join(", ")} FROM ${native(edgeNative)} LIMIT 1`,
          },
          {
            title: "rows",
            sql:
              `SELECT ${select} FROM ${native(edgeNative)} ORDER BY flow_id ` +
              "SETTINGS output_format_json_quote_64bit_integers = 1",
          },
          {
            title: "Native vs RowBinary",
            sql:
              `SELECT (SELECT count() FROM (SELECT * FROM ${native(edgeNative)} EXCEPT ` +
              `SELECT * FROM file('${edgeRowBinary}', 'RowBinary', '${structure(flows)}'))), ` +
              `(SELECT count() FROM (SELECT * FROM file('${edgeRowBinary}', 'RowBinary', '${structure(flows)}') ` +
              `EXCEPT SELECT * FROM ${native(edgeNative)}))`,
          },
          {
            title: "big dictionaries",
            sql:
              `SELECT count(), uniqExact(comm), uniqExact(node), ` +
              `countIf(comm = concat('c', toString(flow_id - 1000000)) AND node = concat('n', toString((flow_id - 1000000) % 300))) ` +
              `FROM ${native(bigNative)}`,
          },
        ],
      });
      const [types, rows, versus, dicts] = out.results;
      for (const r of out.results) expect({ title: r.title, error: r.error }).toEqual({ title: r.title, error: null });
      expect(types!.data[0]).toEqual(cols.map((c) => c.type));
      const want = [...edge].sort((a, b) => (a.flow_id < b.flow_id ? -1 : a.flow_id > b.flow_id ? 1 : 0)).map(printed);
      expect(rows!.data.length).toBe(edge.length);
      for (let i = 0; i < want.length; i++) expect(rows!.data[i], `row ${i}`).toEqual(want[i]);
      expect(versus!.data[0]!.map(Number)).toEqual([0, 0]);
      expect(dicts!.data[0]!.map(Number)).toEqual([BIG, BIG, 300, BIG]);
      console.log(
        `chdb read ${edge.length} edge-case flows (${cols.length} columns each) as the records hold them, ` +
          `equal to the RowBinary path's; ${BIG} flows with ${BIG} distinct comm (UInt32 indexes) and 300 node values`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
