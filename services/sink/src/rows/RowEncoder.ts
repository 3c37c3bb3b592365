// Encodes records of one table into RowBinary in the column order of insertNames(spec), plus the
// identity keys of those records as a RowBinary external table for the "already stored?" query.
// A value that cannot be represented (an unparsable IP on an IPv6 column, an out-of-range
// number) makes that row alone fail, with a reason, so it can be dead-lettered.
import ipaddr from "ipaddr.js";
import { insertNames, type Column, type Logical } from "../schema/columns.js";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import type { TableSpec } from "../schema/tables.js";
import { RowBinaryWriter } from "./RowBinaryWriter.js";

type Write = (w: RowBinaryWriter, v: unknown) => string | undefined;

const show = (v: unknown): string => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;

/** IPv4 or IPv6 text as IPv6's 16 bytes (IPv4 mapped to ::ffff:a.b.c.d), or undefined when it is no address. */
export const ipv6Bytes = (text: string): number[] | undefined => {
  if (!ipaddr.isValid(text)) return undefined;
  const a = ipaddr.parse(text);
  return a.kind() === "ipv4" ? (a as ipaddr.IPv4).toIPv4MappedAddress().toByteArray() : a.toByteArray();
};

const writer = (t: Logical, d: Dialect): Write => {
  switch (t) {
    case "Int64":
      return (w, v) =>
        typeof v === "bigint" && v >= INT64_MIN && v <= INT64_MAX ? (w.i64(v), undefined) : `not an Int64: ${show(v)}`;
    case "Int32":
      return (w, v) => (isInt(v, -(2 ** 31), 2 ** 31 - 1) ? (w.i32(v), undefined) : `not an Int32: ${show(v)}`);
    case "UInt16":
      return (w, v) => (isInt(v, 0, 65535) ? (w.u16(v), undefined) : `not a UInt16: ${show(v)}`);
    case "Bool":
      return (w, v) => (w.u8(v === true ? 1 : 0), undefined);
    case "Float64":
      return (w, v) => (typeof v === "number" ? (w.f64(v), undefined) : `not a number: ${show(v)}`);
    case "NullableFloat64":
      return (w, v) => {
        if (v === null || v === undefined) return (w.u8(1), undefined);
        if (typeof v !== "number") return `not a number: ${show(v)}`;
        w.u8(0);
        w.f64(v);
        return undefined;
      };
    case "String":
    case "Tag":
      return (w, v) => (typeof v === "string" ? (w.string(v), undefined) : `not a string: ${show(v)}`);
    case "IP":
      if (d === "legacy") return (w, v) => (typeof v === "string" ? (w.string(v), undefined) : `not an IP: ${show(v)}`);
      return (w, v) => {
        const bytes = typeof v === "string" ? ipv6Bytes(v) : undefined;
        if (bytes === undefined) return `not an IPv4/IPv6 address: ${JSON.stringify(v)}`;
        w.raw(bytes);
        return undefined;
      };
    case "ArrayInt64":
      return (w, v) => {
        if (!Array.isArray(v)) return `not an array: ${show(v)}`;
        w.varint(v.length);
        for (const x of v) if (typeof x !== "bigint") return `not an Int64: ${show(x)}`;
        for (const x of v as bigint[]) w.i64(x);
        return undefined;
      };
    case "Labels":
      return (w, v) => {
        const entries = Object.entries((v ?? {}) as Record<string, unknown>);
        w.varint(entries.length);
        for (const [k] of entries) w.string(k);
        w.varint(entries.length);
        for (const [, x] of entries) w.string(typeof x === "string" ? x : String(x));
        return undefined;
      };
  }
};

export interface Rejected<R> {
  readonly row: R;
  readonly reason: string;
}

export interface RowEncoder<R> {
  readonly spec: TableSpec<R>;
  /** `INSERT INTO db.table (cols) FORMAT RowBinary` (or Native: WireFlowEncoder) */
  readonly insertStatement: string;
  readonly encode: (rows: ReadonlyArray<R>) => {
    readonly body: Buffer;
    readonly encoded: R[];
    readonly rejected: Rejected<R>[];
  };
  /** Identity (and key-time) columns of the rows, as an external table body. */
  readonly encodeKeys: (rows: ReadonlyArray<R>) => Buffer;
  /** `flow_id Int64, start_ns Int64` — structure of the encodeKeys table. */
  readonly keyStructure: string;
  /** Key columns first, then the key-time ns column if it is not part of the key. */
  readonly keyColumns: ReadonlyArray<string>;
  /** One string per identity, for de-duplicating inside a batch. */
  readonly keyOf: (row: R) => string;
  /** One row per identity, in arrival order; without it, a Set of keyOf strings decides. */
  readonly unique?: (rows: ReadonlyArray<R>) => R[];
  /** The identity as the server prints it (TabSeparated, `\0` between columns); default keyOf. */
  readonly storedKeyOf?: (row: R) => string;
}

/** FNV-1a of an identity string: its commit lane is a pure function of the identity. */
export const laneOfKey = (key: string, lanes: number): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
};

/** `INSERT INTO db.table (insert columns) FORMAT <format>` for a table's rows. */
export const insertStatementOf = <R>(spec: TableSpec<R>, db: string, format: string): string =>
  `INSERT INTO ${db}.${spec.name} (${insertNames(spec.columns).join(", ")}) FORMAT ${format}`;

const keyType = (t: Logical): string => (t === "Tag" || t === "String" ? "String" : t);

export const makeRowEncoder = <R>(spec: TableSpec<R>, d: Dialect, db: string): RowEncoder<R> => {
  const cols = spec.columns.map((c) => ({ c, write: writer(c.type, d) }));
  const byName = new Map<string, Column<R>>(spec.columns.map((c) => [c.name, c]));
  const keyColumns = spec.key.includes(spec.keyTime.ns) ? [...spec.key] : [...spec.key, spec.keyTime.ns];
  const keyCols = keyColumns.map((n) => {
    const c = byName.get(n);
    if (c === undefined) throw new Error(`table ${spec.name}: key column ${n} is not a column`);
    return { c, write: writer(c.type === "IP" ? "String" : c.type, "legacy") };
  });
  const identity = spec.key.map((n) => byName.get(n) as Column<R>);

  return {
    spec,
    insertStatement: insertStatementOf(spec, db, "RowBinary"),
    keyStructure: keyCols.map(({ c }) => `${c.name} ${keyType(c.type)}`).join(", "),
    keyColumns,
    keyOf: (row) => identity.map((c) => String(c.get(row))).join("\u0000"),
    encode: (rows) => {
      const w = new RowBinaryWriter(rows.length * 384 + 1024);
      const encoded: R[] = [];
      const rejected: Rejected<R>[] = [];
      for (const row of rows) {
        const mark = w.length;
        let problem: string | undefined;
        for (const { c, write } of cols) {
          const p = write(w, c.get(row));
          if (p !== undefined) {
            problem = `${c.name}: ${p}`;
            break;
          }
        }
        if (problem === undefined) encoded.push(row);
        else {
          w.rollback(mark);
          rejected.push({ row, reason: problem });
        }
      }
      return { body: w.bytes(), encoded, rejected };
    },
    encodeKeys: (rows) => {
      const w = new RowBinaryWriter(rows.length * 24 + 64);
      for (const row of rows) for (const { c, write } of keyCols) write(w, c.get(row));
      return w.bytes();
    },
  };
};
