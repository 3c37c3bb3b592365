// Column vocabulary shared by the DDL and the RowBinary encoder, so the two can't disagree.
// A logical type maps to a ClickHouse type per dialect; the column NAMES never depend on it.
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";

export type Logical =
  | "Int64"
  | "Int32"
  | "UInt16"
  | "Bool"
  | "Float64"
  | "NullableFloat64"
  | "String"
  /** few distinct values: LowCardinality(String) where the server has it */
  | "Tag"
  /** IPv4 or IPv6 text: IPv6 (v4-mapped) on modern servers, String on legacy */
  | "IP"
  | "ArrayInt64"
  /** a Nested(key String, value String) pair of arrays: `<name>.key`, `<name>.value` */
  | "Labels";

export interface Column<R> {
  readonly name: string;
  readonly type: Logical;
  readonly get: (row: R) => unknown;
  /** ZSTD + Delta suits monotonic-ish ns timestamps on modern servers. */
  readonly codec?: string;
}

/** A column the server computes from the sent ones (never sent by the sink). */
export interface Derived {
  readonly name: string;
  readonly legacy: string;
  readonly modern: string;
}

export const sqlType = (t: Logical, d: Dialect): string => {
  switch (t) {
    case "Tag":
      return d === "modern" ? "LowCardinality(String)" : "String";
    case "IP":
      return d === "modern" ? "IPv6" : "String";
    case "Bool":
      return "UInt8";
    case "NullableFloat64":
      return "Nullable(Float64)";
    case "ArrayInt64":
      return "Array(Int64)";
    case "Labels":
      return "Nested(key String, value String)";
    default:
      return t;
  }
};

/** Names as they appear in an INSERT column list (Nested expands to its two arrays). */
export const insertNames = <R>(cols: ReadonlyArray<Column<R>>): string[] =>
  cols.flatMap((c) => (c.type === "Labels" ? [`${c.name}.key`, `${c.name}.value`] : [c.name]));

/** DateTime from a ns column, and (modern) a DateTime64(9) twin keeping full precision. */
export const secondsOf = (ns: string) => `toDateTime(intDiv(${ns}, 1000000000))`;
export const timeColumns = (name: string, ns: string): Derived => ({
  name,
  legacy: `${name} DateTime DEFAULT ${secondsOf(ns)}`,
  modern: `${name} DateTime DEFAULT ${secondsOf(ns)}`,
});
export const preciseTime = (name: string, ns: string): Derived => ({
  name,
  legacy: `${name} DateTime DEFAULT ${secondsOf(ns)}`,
  modern: `${name} DateTime64(9) DEFAULT fromUnixTimestamp64Nano(${ns})`,
});
