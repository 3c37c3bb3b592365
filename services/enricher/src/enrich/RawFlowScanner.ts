// Walks the Avro encoding of array<RawFlow> (schemas/raw-flow.v1.avsc) without building records:
// for each flow it finds where its bytes start and end and reads only what enrichment needs
// (src/dst IP, start time). EnrichedFlow's leading fields are exactly RawFlow's, so those bytes
// are copied unchanged into the output; no bigint is ever created on this path. The same
// semantic checks as the codec's checkFlow are applied, so a bad batch is refused the same way.
import { ipv4KeyOfBytes } from "../index/ipv4Key.js";

// Field order below must follow raw-flow.v1.avsc; services/enricher/test/BatchEnricher.test.ts holds them together.

export interface ScannedFlow {
  start: number;
  end: number;
  /** Where the src/dst IP text lies in the scanned bytes. */
  srcAt: number;
  srcEnd: number;
  dstAt: number;
  dstEnd: number;
  /** IPv4 as a number (ipv4Key), -1 for anything else. */
  srcV4: number;
  dstV4: number;
  /** start_ns / 1e6 as a double (sub-µs precision is lost; irrelevant for IP validity times). */
  startMs: number;
}

export class ScanError extends Error {}

const DIRECTIONS = ["client", "server"].map((w) => Buffer.from(w));
const CLOSE_REASONS = ["open", "fin", "rst_sent", "rst_received", "timeout"].map((w) => Buffer.from(w));

export class RawFlowScanner {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  /** Scan `bytes` (a whole array<RawFlow>); fills and returns `out` (reused between calls). */
  scan(bytes: Buffer, out: ScannedFlow[]): number {
    this.buf = bytes;
    this.pos = 0;
    let n = 0;
    for (;;) {
      let count = this.long();
      if (count === 0) break;
      if (count < 0) {
        count = -count;
        this.long(); // block size in bytes
      }
      for (let i = 0; i < count; i++) {
        let f = out[n];
        if (f === undefined)
          out[n] = f = { start: 0, end: 0, srcAt: 0, srcEnd: 0, dstAt: 0, dstEnd: 0, srcV4: -1, dstV4: -1, startMs: 0 };
        this.record(f, n);
        n++;
      }
    }
    if (this.pos !== bytes.length)
      throw new ScanError(`${bytes.length - this.pos} trailing bytes after the last record`);
    return n;
  }

  private record(f: ScannedFlow, i: number): void {
    f.start = this.pos;
    this.skipLong(); // flow_id
    this.skipString(); // node
    const startNs = this.long();
    const endNs = this.long();
    this.skipString();
    f.srcAt = this.stringStart;
    f.srcEnd = this.pos;
    f.srcV4 = ipv4KeyOfBytes(this.buf, f.srcAt, f.srcEnd);
    const srcPort = this.long();
    this.skipString();
    f.dstAt = this.stringStart;
    f.dstEnd = this.pos;
    f.dstV4 = ipv4KeyOfBytes(this.buf, f.dstAt, f.dstEnd);
    const dstPort = this.long();
    this.skipString(); // protocol
    const direction = this.word(DIRECTIONS);
    const dirStart = this.wordStart;
    const dirEnd = this.pos;
    for (let k = 0; k < 9; k++) this.skipLong(); // bytes_sent .. syn_retransmits, srtt/min/max rtt
    this.skipString(); // state
    const closeReason = this.word(CLOSE_REASONS);
    const crStart = this.wordStart;
    const crEnd = this.pos;
    this.skipLong(); // netns
    this.skipLong(); // cgroup_id
    this.skipLong(); // pid
    this.skipString(); // comm
    const sampling = this.long();
    f.end = this.pos;
    f.startMs = startNs / 1e6;
    if (direction < 0) this.bad(i, `direction "${this.text(dirStart, dirEnd)}" is not client|server`);
    if (closeReason < 0)
      this.bad(i, `close_reason "${this.text(crStart, crEnd)}" is not fin|rst_sent|rst_received|timeout|open`);
    if (srcPort < 0 || srcPort > 65535) this.bad(i, `src_port ${srcPort} out of range`);
    if (dstPort < 0 || dstPort > 65535) this.bad(i, `dst_port ${dstPort} out of range`);
    if (endNs < startNs) this.bad(i, `end_ns before start_ns`);
    if (sampling < 1) this.bad(i, `sampling ${sampling} < 1`);
  }

  /** Where the last `word` began (its bytes, after the length). */
  private wordStart = 0;

  /** Index of the string at the cursor in `words` (compared as bytes, no string built), or -1. */
  private word(words: ReadonlyArray<Buffer>): number {
    const len = this.long();
    const start = this.pos;
    if (len < 0 || start + len > this.buf.length) throw new ScanError("truncated Avro data (string)");
    this.pos = start + len;
    this.wordStart = start;
    const buf = this.buf;
    for (let w = 0; w < words.length; w++) {
      const word = words[w] as Buffer;
      if (word.length !== len) continue;
      let k = 0;
      while (k < len && buf[start + k] === word[k]) k++;
      if (k === len) return w;
    }
    return -1;
  }

  /** For error messages only. */
  private text(start: number, end: number): string {
    return this.buf.toString("utf8", start, end);
  }

  private bad(i: number, what: string): never {
    throw new ScanError(`invalid netpulse.v1.RawFlow at index ${i}: ${what}`);
  }

  /** Zig-zag varint as a double: exact up to 2^53, approximate beyond (fine for skipping and times). */
  private long(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++];
    if (b === undefined) throw new ScanError("truncated Avro data");
    if (b < 0x80) {
      this.pos = pos;
      return b & 1 ? -((b + 1) >> 1) : b >> 1;
    }
    let n = b & 0x7f;
    let scale = 128;
    do {
      b = buf[pos++];
      if (b === undefined) throw new ScanError("truncated Avro data");
      if (scale > 1.2e21) throw new ScanError("varint longer than 10 bytes");
      n += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    this.pos = pos;
    return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
  }

  private skipLong(): void {
    const buf = this.buf;
    let pos = this.pos;
    const limit = pos + 10;
    let b: number | undefined;
    do {
      b = buf[pos++];
      if (b === undefined) throw new ScanError("truncated Avro data");
    } while (b >= 0x80 && pos < limit);
    if (b >= 0x80) throw new ScanError("varint longer than 10 bytes");
    this.pos = pos;
  }

  /** Where the last skipped string's bytes began. */
  private stringStart = 0;

  private skipString(): void {
    const len = this.long();
    if (len < 0 || this.pos + len > this.buf.length) throw new ScanError("truncated Avro data (string)");
    this.stringStart = this.pos;
    this.pos += len;
  }
}
