// The modern-server half of "same queries on both": applies the modern DDL of every migration to
// an embedded current ClickHouse (chdb, via scripts/chdb-check.py), loads RowBinary written by
// the sink's modern encoder (IPv6, LowCardinality, DateTime64 columns), and runs every cookbook
// query. Skips loudly when python3 or chdb is missing, unless NETPULSE_REQUIRE_CHDB=1.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeRowEncoder } from "../services/sink/src/rows/RowEncoder.js";
import { insertNames, sqlType } from "../services/sink/src/schema/columns.js";
import { migrations } from "../services/sink/src/schema/migrations.js";
import { anomalies, flows, nodeStats, type TableSpec } from "../services/sink/src/schema/tables.js";
import { cookbookData, cookbookQueries, inlined } from "../services/sink/test/cookbook.js";

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

describe.skipIf(!available && !required)("modern ClickHouse (chdb): DDL, encoder and cookbook", () => {
  it("creates the schema, loads the data and runs every cookbook query", () => {
    const dir = mkdtempSync(join(tmpdir(), "netpulse-chdb-"));
    try {
      const data = cookbookData();
      const load = <R>(spec: TableSpec<R>, rows: ReadonlyArray<R>) => {
        const enc = makeRowEncoder(spec, "modern", DB);
        const { body, rejected } = enc.encode(rows);
        expect(rejected).toEqual([]);
        const file = join(dir, `${spec.name}.bin`);
        writeFileSync(file, body);
        return {
          table: `${DB}.${spec.name}`,
          columns: insertNames(spec.columns)
            .map((n) => `\`${n}\``)
            .join(", "),
          structure: structure(spec),
          file,
        };
      };
      const input = {
        statements: [`CREATE DATABASE IF NOT EXISTS ${DB}`, ...migrations.flatMap((m) => m.statements("modern", DB))],
        loads: [load(flows, data.flows), load(anomalies, data.anomalies), load(nodeStats, data.heartbeats)],
        queries: [
          {
            title: "flows stored",
            sql: `SELECT count(), countIf(toTypeName(src_ip) = 'IPv6'), any(toString(src_ip)), toTypeName(any(start_time)) FROM ${DB}.flows`,
          },
          ...cookbookQueries().map((q) => ({ title: q.title, sql: inlined(q.sql, DB) })),
        ],
      };
      if (process.env["NETPULSE_CHDB_DUMP"] !== undefined)
        writeFileSync(process.env["NETPULSE_CHDB_DUMP"], JSON.stringify(input));
      const r = spawnSync(python, [script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 64 << 20 });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        version: string;
        setup_error: string | null;
        results: Array<{ title: string; rows: number; data: unknown[][]; error: string | null }>;
      };
      expect(out.setup_error).toBeNull();
      expect(Number(out.version.split(".")[0])).toBeGreaterThanOrEqual(22);
      const [stored, ...cookbook] = out.results;
      expect(stored!.data[0]).toEqual([data.flows.length, data.flows.length, "::ffff:10.0.0.1", "DateTime64(9)"]);
      for (const q of cookbook)
        expect({ title: q.title, error: q.error, hasRows: q.rows > 0 }).toEqual({
          title: q.title,
          error: null,
          hasRows: true,
        });
    } finally {
      if (process.env["NETPULSE_CHDB_DUMP"] === undefined) rmSync(dir, { recursive: true, force: true });
    }
  });
});
