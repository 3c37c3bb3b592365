// The inner loop of WireFlow.ts: one EnrichedFlow record from its Avro bytes to one row of each
// netpulse.flows column (legacy types, Native layout: NativeBlock.ts), in one pass, with input
// cursor and column buffers in one object so the hot copies stay monomorphic and inlinable.
// Fields are written in column order, each to the next column. A test holds the output to a
// Native block built from the codec's records, and one to the server's own.
import { AvroCursor, AvroCursorError, longLess, longOf } from "@netpulse/runtime/codec/AvroCursor";
import { CLOSE_REASON_BYTES, DIRECTION_BYTES, flowProblem } from "@netpulse/runtime/codec/flowRules";
import { flows } from "../schema/tables.js";
import { isArrayColumn, legacyNativeColumns, type ColumnBlock } from "./NativeBlock.js";
import { grown } from "./RowBinaryWriter.js";

/** netpulse.flows' insert columns as the transcoder writes them, one after another. */
export const FLOW_COLUMNS = legacyNativeColumns(flows);
const COLUMNS = FLOW_COLUMNS.length;
const IS_ARRAY = Uint8Array.from(FLOW_COLUMNS, (c) => (isArrayColumn(c) ? 1 : 0));

export class FlowTranscoder extends AvroCursor {
  /** Column buffers (array columns: elements), reused message after message. */
  private data: Buffer[] = FLOW_COLUMNS.map(() => Buffer.allocUnsafe(1 << 12));
  private at = new Int32Array(COLUMNS);
  /** Array columns: cumulative element counts, 4 bytes a row (UInt32 here, UInt64 in the block). */
  private offs: Int32Array[] = FLOW_COLUMNS.map(() => new Int32Array(1 << 10));
  private totals = new Int32Array(COLUMNS);
  /** Records written since begin. */
  rows = 0;
  /** The column the next field goes to. */
  private c = 0;
  /** The identity of the last record: flow_id and start_ns as 32-bit halves. */
  flowLo = 0;
  flowHi = 0;
  startLo = 0;
  startHi = 0;
  /** Label spans of one endpoint (key start, key end, value start, value end, …), reused. */
  private spans = new Int32Array(64);

  /** Start a message. */
  begin(records: Buffer): void {
    this.reset(records);
    this.at.fill(0);
    this.totals.fill(0);
    this.rows = 0;
  }

  /** Column c's buffer with room for n more bytes. */
  private room(c: number, n: number): Buffer {
    const out = this.data[c]!;
    return this.at[c]! + n <= out.length ? out : (this.data[c] = grown(out, this.at[c]!, n));
  }

  private put8(v: number): void {
    const c = this.c++;
    const q = this.at[c]!;
    this.room(c, 1)[q] = v;
    this.at[c] = q + 1;
  }

  private put16(v: number): void {
    const c = this.c++;
    const q = this.at[c]!;
    const o = this.room(c, 2);
    o[q] = v;
    o[q + 1] = v >>> 8;
    this.at[c] = q + 2;
  }

  private put32(v: number): void {
    const c = this.c++;
    const q = this.at[c]!;
    const o = this.room(c, 4);
    o[q] = v;
    o[q + 1] = v >>> 8;
    o[q + 2] = v >>> 16;
    o[q + 3] = v >>> 24;
    this.at[c] = q + 4;
  }

  /** The long just read (lo, hi) as an Int64. */
  private put64(): void {
    const c = this.c++;
    const q = this.at[c]!;
    const o = this.room(c, 8);
    const { lo, hi } = this;
    o[q] = lo;
    o[q + 1] = lo >>> 8;
    o[q + 2] = lo >>> 16;
    o[q + 3] = lo >>> 24;
    o[q + 4] = hi;
    o[q + 5] = hi >>> 8;
    o[q + 6] = hi >>> 16;
    o[q + 7] = hi >>> 24;
    this.at[c] = q + 8;
  }

  /** `in[s, e)` as a String (LEB128 length, bytes) at the end of column c. */
  private putSpan(c: number, s: number, e: number): void {
    const n = e - s;
    let q = this.at[c]!;
    const o = this.room(c, n + 5);
    if (n < 0x80) o[q++] = n;
    else {
      let v = n;
      while (v >= 0x80) {
        o[q++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      o[q++] = v;
    }
    const src = this.buf;
    if (n <= 48) for (let i = s; i < e; i++) o[q++] = src[i]!;
    else q += src.copy(o, q, s, e);
    this.at[c] = q;
  }

  /** Avro string → String column; its span stays in s/e. */
  private copyString(): void {
    const src = this.buf;
    const b = src[this.pos]!;
    let n: number;
    let s: number;
    if (b < 0x80 && (b & 1) === 0) {
      // one-byte non-negative length: most names and labels
      n = b >>> 1;
      s = this.pos + 1;
    } else {
      n = this.int();
      s = this.pos;
    }
    const e = s + n;
    if (n < 0 || e > src.length)
      throw new AvroCursorError("truncated", `string of ${n} bytes at byte ${s} runs past the end`);
    this.s = s;
    this.pos = this.e = e;
    this.putSpan(this.c++, s, e);
  }

  private copyLong(): void {
    this.long();
    this.put64();
  }

  private endpoint(): void {
    for (let i = 0; i < 7; i++) this.copyString(); // kind … service
    // keys and values are two array columns: note the spans, write both after the map
    let n = 0;
    for (let count = this.block(); count !== 0; count = this.block()) {
      for (let i = 0; i < count; i++) {
        if (n + 4 > this.spans.length) {
          const grown = new Int32Array(this.spans.length * 2);
          grown.set(this.spans);
          this.spans = grown;
        }
        const spans = this.spans;
        this.string();
        spans[n] = this.s;
        spans[n + 1] = this.e;
        this.string();
        spans[n + 2] = this.s;
        spans[n + 3] = this.e;
        n += 4;
      }
    }
    const spans = this.spans;
    for (let part = 0; part < 4; part += 2) {
      const c = this.c++;
      const total = (this.totals[c] = this.totals[c]! + n / 4);
      this.offs[c]![this.rows] = total;
      for (let i = part; i < n; i += 4) this.putSpan(c, spans[i]!, spans[i + 1]!);
    }
    this.put8(this.boolean() ? 1 : 0); // host_network
    this.copyString(); // external_name
  }

  /** One record appended to the columns; a message naming the broken codec rule, else undefined. */
  record(): string | undefined {
    this.c = 0;
    if (this.rows === this.offs[0]!.length) this.offs = this.offs.map((o) => grownInts(o));
    this.copyLong();
    this.flowLo = this.lo;
    this.flowHi = this.hi;
    this.copyString(); // node
    this.copyLong();
    this.startLo = this.lo;
    this.startHi = this.hi;
    this.copyLong();
    const endLo = this.lo;
    const endHi = this.hi;
    this.copyString(); // src_ip
    const srcPort = this.int();
    this.put16(srcPort);
    this.copyString(); // dst_ip
    const dstPort = this.int();
    this.put16(dstPort);
    this.copyString(); // protocol
    this.copyString();
    const badDirection = this.oneOf(DIRECTION_BYTES) < 0 ? this.text() : undefined;
    for (let i = 0; i < 6; i++) this.copyLong(); // bytes, segs, retransmits
    for (let i = 0; i < 3; i++) this.put32(this.int()); // rtts
    this.copyString(); // state
    this.copyString();
    const badClose = this.oneOf(CLOSE_REASON_BYTES) < 0 ? this.text() : undefined;
    this.copyLong(); // netns
    this.copyLong(); // cgroup_id
    this.put32(this.int()); // pid
    this.copyString(); // comm
    const sampling = this.int();
    this.put32(sampling);
    this.endpoint();
    this.endpoint();
    if (this.overrun) throw new AvroCursorError("truncated", "record runs past the end");
    if (this.c !== COLUMNS)
      throw new Error(`wrote ${this.c} of ${COLUMNS} flows columns: record() and the spec disagree`);
    this.rows++;
    const backwards = longLess(endLo, endHi, this.startLo, this.startHi)
      ? ([longOf(endLo, endHi), longOf(this.startLo, this.startHi)] as const)
      : undefined;
    return flowProblem(badDirection, badClose, srcPort, dstPort, backwards, sampling);
  }

  /** The message's rows as one ColumnBlock (a copy: the column buffers serve the next message). */
  finish(): ColumnBlock {
    const rows = this.rows;
    const cols = new Int32Array(COLUMNS + 1);
    let size = 0;
    for (let c = 0; c < COLUMNS; c++) {
      cols[c] = size;
      size += this.at[c]! + (IS_ARRAY[c] ? 8 * rows : 0);
    }
    cols[COLUMNS] = size;
    const block = Buffer.allocUnsafe(size);
    for (let c = 0; c < COLUMNS; c++) {
      let q = cols[c]!;
      if (IS_ARRAY[c]) {
        const offs = this.offs[c]!;
        for (let r = 0; r < rows; r++, q += 8) {
          block.writeUInt32LE(offs[r]!, q);
          block.writeUInt32LE(0, q + 4);
        }
      }
      this.data[c]!.copy(block, q, 0, this.at[c]);
    }
    return { rows, block, cols };
  }
}

const grownInts = (a: Int32Array): Int32Array => {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
};
