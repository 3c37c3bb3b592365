// The inner loop of WireFlow.ts: one EnrichedFlow record from its Avro bytes to its RowBinary row
// for netpulse.flows (legacy column types), in one pass, with input cursor and output buffer in
// one object so the hot copies stay monomorphic and inlinable. A test holds the output to the
// codec + FlowRowBinary bytes for every field.
import { AvroCursor, AvroCursorError, longLess, longOf } from "@netpulse/runtime/codec/AvroCursor";
import { CLOSE_REASON_BYTES, DIRECTION_BYTES, flowProblem } from "@netpulse/runtime/codec/flowRules";
import { grown } from "./RowBinaryWriter.js";

/**
 * More than a row's fixed-width fields and length headers take in all. `room` keeps this much free
 * at the start of a record and after every string, so fixed-width writes need no check of their own.
 */
const FIXED_BYTES = 256;

export class FlowTranscoder extends AvroCursor {
  out: Buffer = Buffer.allocUnsafe(1 << 16);
  q = 0;
  /** The identity of the last record: flow_id and start_ns as 32-bit halves. */
  flowLo = 0;
  flowHi = 0;
  startLo = 0;
  startHi = 0;
  /** Label spans of one endpoint (key start, key end, value start, value end, …), reused. */
  private spans = new Int32Array(64);

  /** Start a batch: `expectBytes` sizes the output (it grows when needed). */
  begin(records: Buffer, expectBytes: number): void {
    this.reset(records);
    this.out = Buffer.allocUnsafe(Math.max(expectBytes, FIXED_BYTES * 4));
    this.q = 0;
  }

  private room(n: number): void {
    if (this.q + n > this.out.length) this.out = grown(this.out, this.q, n);
  }

  private put8(v: number): void {
    this.out[this.q++] = v;
  }

  private put16(v: number): void {
    const o = this.out;
    const q = this.q;
    o[q] = v;
    o[q + 1] = v >>> 8;
    this.q = q + 2;
  }

  private put32(v: number): void {
    const o = this.out;
    const q = this.q;
    o[q] = v;
    o[q + 1] = v >>> 8;
    o[q + 2] = v >>> 16;
    o[q + 3] = v >>> 24;
    this.q = q + 4;
  }

  private putLength(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.out[this.q++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.out[this.q++] = v;
  }

  /** `in[s, e)` as a RowBinary String (length-prefixed). */
  private putSpan(s: number, e: number): void {
    const n = e - s;
    this.room(n + 5 + FIXED_BYTES);
    if (n < 0x80) this.out[this.q++] = n;
    else this.putLength(n);
    const src = this.buf;
    if (n <= 48) {
      const o = this.out;
      let q = this.q;
      for (let i = s; i < e; i++) o[q++] = src[i]!;
      this.q = q;
    } else {
      src.copy(this.out, this.q, s, e);
      this.q += n;
    }
  }

  /** Avro string → RowBinary String; its span stays in s/e. */
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
    this.putSpan(s, e);
  }

  private copyLong(): void {
    this.long();
    this.put32(this.lo);
    this.put32(this.hi);
  }

  private endpoint(): void {
    for (let i = 0; i < 7; i++) this.copyString(); // kind … service
    // RowBinary wants all keys, then all values: note the spans, write both after the map
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
      this.putLength(n / 4);
      for (let i = part; i < n; i += 4) this.putSpan(spans[i]!, spans[i + 1]!);
    }
    this.put8(this.boolean() ? 1 : 0); // host_network
    this.copyString(); // external_name
  }

  /** One record appended to `out`; a message naming the broken codec rule, else undefined. */
  record(): string | undefined {
    this.room(FIXED_BYTES);
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
    const backwards = longLess(endLo, endHi, this.startLo, this.startHi)
      ? ([longOf(endLo, endHi), longOf(this.startLo, this.startHi)] as const)
      : undefined;
    return flowProblem(badDirection, badClose, srcPort, dstPort, backwards, sampling);
  }
}
