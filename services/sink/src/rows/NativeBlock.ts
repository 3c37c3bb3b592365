// Rows of one table as one ClickHouse Native block (the columnar format the server keeps its data
// in): a column count and a row count, then per column its name, its type and all its values.
// The server then copies columns instead of parsing every field of every row. Measured on the
// 18.16 server here with the same 1 M flow rows in 50 k-row bodies: 2.0–2.2 s of server CPU as
// Native against 2.7–3.4 s as RowBinary, and gzip -1 bodies 2.3× smaller.
// Values are the bytes RowBinary has too (little-endian numbers, LEB128-prefixed strings); an
// array column is a column of cumulative UInt64 offsets (elements up to and including the row)
// followed by one column of all the elements. Legacy column types only (the portable DDL:
// numbers, String, Array(String); no Nullable or LowCardinality, which have layouts of their own).
import { insertNames, sqlType } from "../schema/columns.js";
import type { TableSpec } from "../schema/tables.js";

export interface NativeColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * Some rows, column after column: column c is `block[cols[c], cols[c + 1])`; an array column
 * starts with its 8 × `rows` bytes of offsets (cumulative element counts from the first of these
 * rows, UInt64 LE) and goes on with its elements.
 */
export interface ColumnBlock {
  readonly rows: number;
  readonly block: Buffer;
  readonly cols: Int32Array;
}

/** An array column: a column of offsets, then one of elements. */
export const isArrayColumn = (c: NativeColumn): boolean => c.type.startsWith("Array(");

/** The insert columns of a table in its legacy DDL's types, in insertNames order. */
export const legacyNativeColumns = <R>(spec: TableSpec<R>): NativeColumn[] => {
  const types = spec.columns.flatMap((c) =>
    c.type === "Labels" ? ["Array(String)", "Array(String)"] : [sqlType(c.type, "legacy")],
  );
  return insertNames(spec.columns).map((name, i) => ({ name, type: types[i]! }));
};

/** n as an unsigned LEB128 varint (Native's counts and string lengths). */
export const leb128 = (n: number): Buffer => {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
};

/** A Native String: LEB128 byte length, UTF-8 bytes. */
export const lebString = (s: string): Buffer => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([leb128(b.length), b]);
};

/** One Native block of all the rows of `blocks`, in order (array offsets rebased). */
export const nativeBlock = (columns: ReadonlyArray<NativeColumn>, blocks: ReadonlyArray<ColumnBlock>): Buffer => {
  let rows = 0;
  let size = 0;
  for (const b of blocks) {
    rows += b.rows;
    size += b.block.length;
  }
  const header = Buffer.concat([leb128(columns.length), leb128(rows)]);
  const heads = columns.map((c) => Buffer.concat([lebString(c.name), lebString(c.type)]));
  for (const h of heads) size += h.length;
  const out = Buffer.allocUnsafe(header.length + size);
  let q = header.copy(out, 0);
  columns.forEach((col, c) => {
    q += heads[c]!.copy(out, q);
    const array = isArrayColumn(col);
    if (array) {
      let base = 0;
      for (const b of blocks) {
        const at = b.cols[c]!;
        let last = 0;
        for (let r = 0; r < b.rows; r++, q += 8) {
          last = b.block.readUInt32LE(at + 8 * r);
          out.writeUInt32LE(base + last, q);
          out.writeUInt32LE(0, q + 4);
        }
        base += last;
      }
    }
    for (const b of blocks) q += b.block.copy(out, q, b.cols[c]! + (array ? 8 * b.rows : 0), b.cols[c + 1]);
  });
  return out;
};
