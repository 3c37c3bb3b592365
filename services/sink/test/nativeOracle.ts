// Test oracle for the sink's Native blocks: RowBinary rows (from the codec path's encoder, which
// encoder.test.ts holds to the generic one) regrouped column by column into a Native block, the
// slow obvious way. Checked byte for byte against the 18.16 server's own `FORMAT Native` output;
// the modern types (IPv6, LowCardinality(String): a dictionary in first-seen order, indexes as
// narrow as it allows) by chdb reading the transcoder's blocks (test/sink-chdb.test.ts).
import { grown } from "../src/rows/RowBinaryWriter.js";
import { leb128, lebString, readLeb, type NativeColumn } from "../src/rows/NativeBlock.js";

const KIND_FIXED = 0;
const KIND_STRING = 1;
const KIND_STRINGS = 2; // Array(String)
const KIND_DICT = 3; // LowCardinality(String)

const FIXED_WIDTH: Readonly<Record<string, number>> = {
  Int64: 8,
  Int32: 4,
  UInt16: 2,
  UInt8: 1,
  Float64: 8,
  IPv6: 16,
};

const kindOf = (c: NativeColumn): number => {
  if (c.type === "String") return KIND_STRING;
  if (c.type === "LowCardinality(String)") return KIND_DICT;
  if (c.type === "Array(String)") return KIND_STRINGS;
  if (FIXED_WIDTH[c.type] !== undefined) return KIND_FIXED;
  throw new Error(`column ${c.name}: no Native layout for ${c.type} here`);
};

/** Offset of the end of the LEB128 length + string starting at p. */
const stringEnd = (src: Buffer, p: number): number => {
  const b = src[p]!;
  if (b < 0x80) return p + 1 + b;
  const len = readLeb(src, p);
  let q = p;
  while (src[q++]! >= 0x80);
  return q + len;
};

/**
 * Gathers RowBinary rows (in any number of pieces) into one Native block: `rows` appends,
 * `finish` returns the block and empties the writer for the next one (its column buffers are
 * kept: a sink writes one block at a time, and fresh 20 MB a block was garbage to collect).
 */
export class NativeBlockWriter {
  private readonly kinds: Int32Array;
  private readonly widths: Int32Array;
  private readonly data: Buffer[];
  private readonly at: Int32Array;
  /** Array columns: cumulative element count per row, UInt64 LE. */
  private readonly offsets: (Buffer | undefined)[];
  private readonly totals: Float64Array;
  /** LowCardinality columns: key (latin1 of its bytes) → index, and each row's index. */
  private readonly dicts: Map<string, number>[];
  private readonly indexes: number[][];
  private count = 0;
  /** Rows the offset columns have room for. */
  private capacity: number;

  constructor(
    private readonly columns: ReadonlyArray<NativeColumn>,
    expectRows = 1024,
  ) {
    const n = columns.length;
    this.kinds = Int32Array.from(columns, kindOf);
    this.widths = Int32Array.from(columns, (c) => FIXED_WIDTH[c.type] ?? 0);
    this.at = new Int32Array(n);
    this.totals = new Float64Array(n);
    const rows = Math.max(expectRows, 1);
    this.capacity = rows;
    this.data = columns.map((_, c) =>
      Buffer.allocUnsafe(this.kinds[c] === KIND_FIXED ? this.widths[c]! * rows : Math.max(256, rows * 16)),
    );
    this.offsets = columns.map((_, c) => (this.kinds[c] === KIND_STRINGS ? Buffer.allocUnsafe(8 * rows) : undefined));
    this.dicts = columns.map(() => new Map());
    this.indexes = columns.map(() => []);
  }

  /** Column c's buffer, grown to take n more bytes. */
  private room(c: number, n: number): Buffer {
    return (this.data[c] = grown(this.data[c]!, this.at[c]!, n));
  }

  private growOffsets(): void {
    this.capacity *= 2;
    for (let c = 0; c < this.offsets.length; c++) {
      const o = this.offsets[c];
      if (o !== undefined) this.offsets[c] = grown(o, o.length, o.length);
    }
  }

  /** Append the `rows` RowBinary rows in src[start, end). */
  rows(src: Buffer, start: number, end: number, rows: number): void {
    const { kinds, widths, at, data } = this;
    const n = kinds.length;
    let p = start;
    for (let r = 0; r < rows; r++) {
      if (this.count === this.capacity) this.growOffsets();
      for (let c = 0; c < n; c++) {
        const kind = kinds[c];
        let s = p;
        if (kind === KIND_FIXED) {
          p += widths[c]!;
        } else if (kind === KIND_STRING) {
          p = stringEnd(src, p);
        } else if (kind === KIND_DICT) {
          // the key goes to the dictionary (the column's bytes) when new; the row keeps its index
          p = stringEnd(src, p);
          const key = src.toString("latin1", s, p);
          const dict = this.dicts[c]!;
          let k = dict.get(key);
          if (k !== undefined) {
            this.indexes[c]!.push(k);
            continue;
          }
          k = dict.size;
          dict.set(key, k);
          this.indexes[c]!.push(k);
        } else {
          // Array(String): the element count goes to the offsets column, the elements (the
          // column's own bytes) to the data column
          const items = readLeb(src, p);
          while (src[p++]! >= 0x80);
          s = p;
          for (let i = 0; i < items; i++) p = stringEnd(src, p);
          const total = (this.totals[c] = this.totals[c]! + items);
          const o = this.offsets[c]!;
          const k = 8 * this.count;
          o.writeUInt32LE(total % 0x100000000, k);
          o.writeUInt32LE(Math.floor(total / 0x100000000), k + 4);
        }
        // src[s, p) to the end of column c: byte by byte when short (most fields), which beats
        // a call into Buffer.copy
        const len = p - s;
        let q = at[c]!;
        const out = q + len <= data[c]!.length ? data[c]! : this.room(c, len);
        if (len <= 24) for (let i = s; i < p; i++) out[q++] = src[i]!;
        else q += src.copy(out, q, s, p);
        at[c] = q;
      }
      this.count++;
    }
    if (p !== end) throw new Error(`RowBinary rows end at byte ${p - start} of ${end - start}: a column type is wrong`);
  }

  /** The Native block of every row appended since the last finish. */
  finish(): Buffer {
    const parts: Buffer[] = [leb128(this.columns.length), leb128(this.count)];
    this.columns.forEach((col, c) => {
      parts.push(lebString(col.name), lebString(col.type));
      if (this.kinds[c] === KIND_DICT) {
        if (this.count === 0) return;
        const keys = this.dicts[c]!.size;
        const width = keys <= 256 ? 1 : keys <= 65536 ? 2 : 4;
        const u64 = (v: number) => {
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(BigInt(v));
          return b;
        };
        // keys version 1; index type (0/1/2 = UInt8/16/32) | has additional keys | update dictionary
        parts.push(u64(1), u64((width === 1 ? 0 : width === 2 ? 1 : 2) | (1 << 9) | (1 << 10)), u64(keys));
        parts.push(this.data[c]!.subarray(0, this.at[c]), u64(this.count));
        const idx = Buffer.alloc(width * this.count);
        this.indexes[c]!.forEach((k, r) => idx.writeUIntLE(k, width * r, width));
        parts.push(idx);
        return;
      }
      const o = this.offsets[c];
      if (o !== undefined) parts.push(o.subarray(0, 8 * this.count));
      parts.push(this.data[c]!.subarray(0, this.at[c]));
    });
    const block = Buffer.concat(parts);
    this.count = 0;
    this.at.fill(0);
    this.totals.fill(0);
    for (const d of this.dicts) d.clear();
    for (const i of this.indexes) i.length = 0;
    return block;
  }
}

/** The Native block of RowBinary `rows` (n of them) with these columns. */
export const nativeOfRowBinary = (columns: ReadonlyArray<NativeColumn>, rows: Buffer, n: number): Buffer => {
  const w = new NativeBlockWriter(columns, n);
  w.rows(rows, 0, rows.length, n);
  return w.finish();
};
