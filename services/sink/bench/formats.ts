// Candidate insert bodies for the format comparison in sink.bench.ts: the sink's RowBinary
// encoder, and JSONEachRow / TabSeparated built from the same column specs.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { insertNames } from "../src/schema/columns.js";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { flows } from "../src/schema/tables.js";
import { insertStatementOf, makeRowEncoder } from "../src/rows/RowEncoder.js";

type Build = (rows: ReadonlyArray<EnrichedFlow>) => { statement: string; body: Buffer };

const plain = (v: unknown): unknown =>
  typeof v === "bigint" ? v.toString() : typeof v === "boolean" ? (v ? 1 : 0) : v;
const tsvEscape = (s: string) =>
  s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/'/g, "\\'");
const tsvValue = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map((x) => (typeof x === "string" ? `'${tsvEscape(x)}'` : String(x))).join(",")}]`
    : typeof v === "string"
      ? tsvEscape(v)
      : String(plain(v));

export const formatBodies = (d: Dialect, db: string): Record<string, Build> => {
  const names = insertNames(flows.columns);
  const getters = flows.columns.flatMap((c) =>
    c.type === "Labels"
      ? [
          (r: EnrichedFlow) => Object.keys(c.get(r) as Record<string, string>),
          (r: EnrichedFlow) => Object.values(c.get(r) as Record<string, string>),
        ]
      : [(r: EnrichedFlow) => c.get(r)],
  );
  const enc = makeRowEncoder(flows, d, db);
  const into = (format: string) => insertStatementOf(flows, db, format);
  return {
    RowBinary: (rows) => ({ statement: enc.insertStatement, body: enc.encode(rows).body }),
    JSONEachRow: (rows) => ({
      statement: into("JSONEachRow"),
      body: Buffer.from(
        rows.map((r) => JSON.stringify(Object.fromEntries(names.map((n, i) => [n, plain(getters[i]!(r))])))).join("\n"),
      ),
    }),
    TabSeparated: (rows) => ({
      statement: into("TabSeparated"),
      body: Buffer.from(rows.map((r) => getters.map((g) => tsvValue(g(r))).join("\t")).join("\n") + "\n"),
    }),
  };
};
