// The inner loop of WireFlow.ts: one EnrichedFlow record from its Avro bytes to one row of each
// netpulse.flows column (Native layout: NativeBlock.ts), in one pass, with input cursor and
// column buffers in one object so the hot copies stay monomorphic and inlinable. Fields are
// written in column order, each to the next column. The dialect decides what a string field
// becomes: a String on legacy servers; on modern ones a Tag field is looked up in its column's
// dictionary (LowCardinality(String)) and an IP is parsed to IPv6's 16 bytes. A test holds the
// output to a Native block built from the codec's records, the legacy one to the 18.16 server's
// own, and the modern one to what chdb reads back.
import { AvroCursor, AvroCursorError, longLess, longOf } from "@netpulse/runtime/codec/AvroCursor";
import { CLOSE_REASON_BYTES, DIRECTION_BYTES, flowProblem } from "@netpulse/runtime/codec/flowRules";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { flows } from "../schema/tables.js";
import { isArrayColumn, isLowCardinality, nativeColumns, type ColumnBlock, type NativeColumn } from "./NativeBlock.js";
import { grown } from "./RowBinaryWriter.js";
import { ipv6Bytes } from "./RowEncoder.js";

/** netpulse.flows' insert columns in a dialect's types, as the transcoder writes them. */
export const flowColumns = (d: Dialect): NativeColumn[] => nativeColumns(flows, d);
/** The legacy ones. */
export const FLOW_COLUMNS = flowColumns("legacy");
const COLUMNS = FLOW_COLUMNS.length;
const IS_ARRAY = Uint8Array.from(FLOW_COLUMNS, (c) => (isArrayColumn(c) ? 1 : 0));

/** What a string field becomes in its column. */
const PLAIN = 0;
const TAG = 1;
const IP = 2;
const stringKind = (c: NativeColumn): number => (isLowCardinality(c) ? TAG : c.type === "IPv6" ? IP : PLAIN);

/** a[s, s + n) and b[t, t + n) hold the same bytes. */
const sameBytes = (a: Buffer, s: number, b: Buffer, t: number, n: number): boolean => {
  for (let i = 0; i < n; i++) if (a[s + i] !== b[t + i]) return false;
  return true;
};

/** `src[s, e)` as four decimal bytes (no leading zeros) to o[q, q + 4); false when it is not that. */
const dottedQuad = (src: Buffer, s: number, e: number, o: Buffer, q: number): boolean => {
  if (e - s > 15 || e - s < 7) return false;
  let part = 0;
  let v = 0;
  let digits = 0;
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    if (b === 0x2e) {
      if (digits === 0 || part === 3) return false;
      o[q + part++] = v;
      v = 0;
      digits = 0;
    } else if (b >= 0x30 && b <= 0x39 && !(digits > 0 && v === 0)) {
      v = v * 10 + b - 0x30;
      digits++;
      if (v > 255) return false;
    } else return false;
  }
  if (part !== 3 || digits === 0) return false;
  o[q + 3] = v;
  return true;
};

const groups = new Int32Array(8);

/**
 * `src[s, e)` as IPv6 to o[q, q + 16) when it is plain: 1–4 lower-case hex digits a group, all
 * eight, or at most six around one "::"; the last two may be a dotted quad after six groups, or
 * in ::ffff:a.b.c.d. False otherwise (the caller asks ipaddr.js).
 */
const plainIpv6 = (src: Buffer, s: number, e: number, o: Buffer, q: number): boolean => {
  if (e - s < 2 || e - s > 45) return false;
  let n = 0;
  let gap = -1;
  let i = s;
  if (src[i] === 0x3a) {
    if (src[i + 1] !== 0x3a) return false;
    gap = 0;
    i += 2;
  }
  while (i < e) {
    const start = i;
    let v = 0;
    for (; i < e && i - start < 5; i++) {
      const b = src[i]!;
      if (b >= 0x30 && b <= 0x39) v = (v << 4) | (b - 0x30);
      else if (b >= 0x61 && b <= 0x66) v = (v << 4) | (b - 0x57);
      else break;
    }
    if (i < e && src[i] === 0x2e) {
      // a dotted quad ends the address; with a "::" only as ::ffff:a.b.c.d (ipaddr.js reads
      // ::a.b.c.d as IPv4-mapped too, and the RowBinary path's bytes are the reference)
      if (n > 6 || (gap >= 0 && !(gap === 0 && n === 1 && groups[0] === 0xffff))) return false;
      if (!dottedQuad(src, start, e, o, q)) return false;
      groups[n++] = (o[q]! << 8) | o[q + 1]!;
      groups[n++] = (o[q + 2]! << 8) | o[q + 3]!;
      i = e;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = v;
    if (i === e) break;
    if (src[i] !== 0x3a) return false;
    i++;
    if (i < e && src[i] === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === e) return false; // a lone ':' at the end
  }
  if (gap < 0 ? n !== 8 : n > 6) return false;
  const zeros = 8 - n;
  let w = 0;
  for (let k = 0; k < 8; k++) {
    const g = gap >= 0 && k >= gap && k < gap + zeros ? 0 : groups[w++]!;
    o[q + 2 * k] = g >>> 8;
    o[q + 2 * k + 1] = g & 0xff;
  }
  return true;
};

export class FlowTranscoder extends AvroCursor {
  readonly columns: ReadonlyArray<NativeColumn>;
  private readonly kinds: Uint8Array;
  /** Column buffers (array columns: elements; LowCardinality: dictionary keys), reused message after message. */
  private data: Buffer[] = FLOW_COLUMNS.map(() => Buffer.allocUnsafe(1 << 12));
  private at = new Int32Array(COLUMNS);
  /**
   * Per row: array columns' cumulative element counts (UInt32 here, UInt64 in the block);
   * LowCardinality columns' dictionary indexes.
   */
  private offs: Int32Array[] = FLOW_COLUMNS.map(() => new Int32Array(1 << 10));
  private totals = new Int32Array(COLUMNS);
  /** LowCardinality columns: keys so far, each key's bytes (start, length in data[c]), hash slots (key + 1). */
  private keys = new Int32Array(COLUMNS);
  private spansOfKeys: Int32Array[] = FLOW_COLUMNS.map(() => new Int32Array(0));
  private slots: Int32Array[] = FLOW_COLUMNS.map(() => new Int32Array(0));
  /** The key of the previous row (most rows repeat it), -1 for none. */
  private lastKey = new Int32Array(COLUMNS);
  /** A value of this row that the dialect's columns cannot hold (an unparsable IP): the row's own problem. */
  rowProblem: string | undefined = undefined;
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

  constructor(readonly dialect: Dialect = "legacy") {
    super();
    this.columns = flowColumns(dialect);
    this.kinds = Uint8Array.from(this.columns, stringKind);
    this.kinds.forEach((k, c) => {
      if (k !== TAG) return;
      this.spansOfKeys[c] = new Int32Array(512);
      this.slots[c] = new Int32Array(512);
    });
  }

  /** Start a message. */
  begin(records: Buffer): void {
    this.reset(records);
    this.at.fill(0);
    this.totals.fill(0);
    this.rows = 0;
    if (this.dialect === "legacy") return;
    for (let c = 0; c < COLUMNS; c++) if (this.keys[c]! > 0) this.slots[c]!.fill(0);
    this.keys.fill(0);
    this.lastKey.fill(-1);
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
    const c = this.c++;
    const kind = this.kinds[c];
    if (kind === PLAIN) this.putSpan(c, s, e);
    else if (kind === TAG) this.putKey(c, s, e);
    else this.putIp(c, s, e);
  }

  /** `in[s, e)` as a LowCardinality(String) row of column c: its key's index, the key added if new. */
  private putKey(c: number, s: number, e: number): void {
    const src = this.buf;
    const n = e - s;
    const spans = this.spansOfKeys[c]!;
    const last = this.lastKey[c]!;
    if (last >= 0 && spans[2 * last + 1] === n && sameBytes(src, s, this.data[c]!, spans[2 * last]!, n)) {
      this.offs[c]![this.rows] = last;
      return;
    }
    let h = 0x811c9dc5 ^ n;
    for (let i = s; i < e; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    const slots = this.slots[c]!;
    const mask = slots.length - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const k = slots[slot]! - 1;
      if (k < 0) break;
      if (spans[2 * k + 1] === n && sameBytes(src, s, this.data[c]!, spans[2 * k]!, n)) {
        this.offs[c]![this.rows] = this.lastKey[c] = k;
        return;
      }
      slot = (slot + 1) & mask;
    }
    // a new key: its String at the end of the dictionary, its bytes' span noted
    const k = this.keys[c]!;
    this.putSpan(c, s, e);
    if (2 * k + 2 > spans.length) this.spansOfKeys[c] = grownInts(spans);
    this.spansOfKeys[c]![2 * k] = this.at[c]! - n;
    this.spansOfKeys[c]![2 * k + 1] = n;
    slots[slot] = k + 1;
    this.keys[c] = k + 1;
    if (2 * (k + 1) > slots.length) this.rehash(c);
    this.offs[c]![this.rows] = this.lastKey[c] = k;
  }

  /** Column c's hash slots, twice as many. */
  private rehash(c: number): void {
    const slots = new Int32Array(this.slots[c]!.length * 2);
    const mask = slots.length - 1;
    const spans = this.spansOfKeys[c]!;
    const data = this.data[c]!;
    for (let k = 0; k < this.keys[c]!; k++) {
      const s = spans[2 * k]!;
      const n = spans[2 * k + 1]!;
      let h = 0x811c9dc5 ^ n;
      for (let i = s; i < s + n; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
      let slot = (h ^ (h >>> 15)) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = k + 1;
    }
    this.slots[c] = slots;
  }

  /**
   * `in[s, e)`, IPv4 or IPv6 text, as IPv6's 16 bytes (network order; IPv4 mapped to
   * ::ffff:a.b.c.d). Plain dotted decimal and plain IPv6 are parsed here; anything else (a zone,
   * upper-case hex, octal or short IPv4 forms) goes to ipaddr.js, as the RowBinary encoder does,
   * and a test holds the two to the same bytes. Text that is no address writes zeros and sets
   * rowProblem.
   */
  private putIp(c: number, s: number, e: number): void {
    const src = this.buf;
    const q = this.at[c]!;
    const o = this.room(c, 16);
    this.at[c] = q + 16;
    if (dottedQuad(src, s, e, o, q + 12)) {
      for (let i = 0; i < 10; i++) o[q + i] = 0;
      o[q + 10] = 0xff;
      o[q + 11] = 0xff;
      return;
    }
    if (plainIpv6(src, s, e, o, q)) return;
    const text = src.toString("utf8", s, e);
    const bytes = ipv6Bytes(text);
    for (let i = 0; i < 16; i++) o[q + i] = bytes?.[i] ?? 0;
    if (bytes === undefined && this.rowProblem === undefined)
      this.rowProblem = `${this.columns[c]!.name}: not an IPv4/IPv6 address: ${JSON.stringify(text)}`;
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
    this.rowProblem = undefined;
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
    const kinds = this.kinds;
    let size = 0;
    for (let c = 0; c < COLUMNS; c++) {
      cols[c] = size;
      size += this.at[c]! + (IS_ARRAY[c] ? 8 * rows : 0) + (kinds[c] === TAG ? 4 * rows : 0);
    }
    cols[COLUMNS] = size;
    const block = Buffer.allocUnsafe(size);
    for (let c = 0; c < COLUMNS; c++) {
      let q = cols[c]!;
      const offs = this.offs[c]!;
      if (IS_ARRAY[c]) {
        for (let r = 0; r < rows; r++, q += 8) {
          block.writeUInt32LE(offs[r]!, q);
          block.writeUInt32LE(0, q + 4);
        }
      }
      q += this.data[c]!.copy(block, q, 0, this.at[c]);
      if (kinds[c] === TAG)
        for (let r = 0; r < rows; r++, q += 4) {
          const k = offs[r]!;
          block[q] = k;
          block[q + 1] = k >>> 8;
          block[q + 2] = k >>> 16;
          block[q + 3] = k >>> 24;
        }
    }
    return this.dialect === "legacy" ? { rows, block, cols } : { rows, block, cols, keys: this.keys.slice() };
  }
}

const grownInts = (a: Int32Array): Int32Array => {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
};
