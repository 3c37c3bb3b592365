// A read cursor over Avro binary data, for the hot paths that walk records without building them
// (the enricher's RawFlow scanner, the sink's EnrichedFlow → RowBinary transcoder). Values land
// in fields instead of being returned as objects: a long as its two 32-bit halves (exact for all
// 64 bits, no bigint), a string as its byte span. Reads past the end see zero bytes rather than
// throwing per byte; `string` checks its own bounds and callers check `overrun` once per record.

export class AvroCursorError extends Error {
  constructor(
    readonly kind: "truncated" | "garbage",
    message: string,
  ) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);

/** a < b for two longs given as (lo, hi) halves, exactly (doubles lose order past 2^53). */
export const longLess = (aLo: number, aHi: number, bLo: number, bHi: number): boolean =>
  (aHi | 0) !== (bHi | 0) ? (aHi | 0) < (bHi | 0) : aLo >>> 0 < bLo >>> 0;

/** A long given as (lo, hi) halves, as a bigint (messages; not for hot paths). */
export const longOf = (lo: number, hi: number): bigint =>
  BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));

export class AvroCursor {
  buf: Buffer = EMPTY;
  pos = 0;
  /** The last `long()`: low and high 32 bits of its two's-complement value. */
  lo = 0;
  hi = 0;
  /** The last `string()`: its bytes are buf[s, e). */
  s = 0;
  e = 0;

  reset(buf: Buffer, pos = 0): this {
    this.buf = buf;
    this.pos = pos;
    return this;
  }

  /** True once a read ran past the end of the data (the record is truncated). */
  get overrun(): boolean {
    return this.pos > this.buf.length;
  }

  /** A zig-zag varint into lo/hi. */
  long(): void {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    let lo = b & 0x7f;
    let hi = 0;
    if (b >= 0x80) {
      b = buf[pos++]!;
      lo |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]!;
        lo |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]!;
          lo |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++]!;
            lo |= (b & 0x0f) << 28;
            hi = (b & 0x7f) >> 4;
            let shift = 3;
            while (b >= 0x80) {
              b = buf[pos++]!;
              // the tenth byte holds the 64th bit alone
              if (shift === 31 && b > 1) throw new AvroCursorError("garbage", `long beyond 64 bits at byte ${pos}`);
              hi |= (b & 0x7f) << shift;
              shift += 7;
            }
          }
        }
      }
    }
    this.pos = pos;
    // zig-zag: value = (n >>> 1) ^ -(n & 1), over 64 bits
    const neg = -(lo & 1);
    this.lo = (((lo >>> 1) | (hi << 31)) ^ neg) >>> 0;
    this.hi = ((hi >>> 1) ^ neg) >>> 0;
  }

  /** A long as a double: exact within ±2^53 (counts, lengths, ports, times in ms). */
  num(): number {
    this.long();
    return (this.hi | 0) * 4294967296 + this.lo;
  }

  /** A long that must fit 32 bits signed (Avro int, lengths, block counts). */
  int(): number {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      this.pos++;
      return (b >>> 1) ^ -(b & 1);
    }
    this.long();
    const { lo, hi } = this;
    if (hi === 0 && lo <= 0x7fffffff) return lo;
    if (hi === 0xffffffff && lo >= 0x80000000) return lo | 0;
    throw new AvroCursorError("garbage", `int out of range at byte ${this.pos}`);
  }

  /** An Avro boolean (one byte). */
  boolean(): boolean {
    return this.buf[this.pos++] !== 0;
  }

  /** Step over a varint. */
  skip(): void {
    const buf = this.buf;
    let pos = this.pos;
    const last = pos + 9;
    while (buf[pos++]! >= 0x80)
      if (pos === last && buf[pos]! > 1) throw new AvroCursorError("garbage", `long beyond 64 bits at byte ${pos}`);
    this.pos = pos;
  }

  /** A string or bytes value: its span into s/e. */
  string(): void {
    const n = this.int();
    const s = this.pos;
    if (n < 0 || s + n > this.buf.length)
      throw new AvroCursorError("truncated", `string of ${n} bytes at byte ${s} runs past the end`);
    this.s = s;
    this.pos = this.e = s + n;
  }

  /** The item count of the next array/map block (0 ends it); skips a negative count's byte size. */
  block(): number {
    const n = this.int();
    if (n >= 0) return n;
    this.skip();
    return -n;
  }

  /** Index in `words` of the last string's bytes, or -1 (compared as bytes, no string built). */
  oneOf(words: ReadonlyArray<Buffer>): number {
    const { buf, s, e } = this;
    const len = e - s;
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      if (word.length !== len) continue;
      let k = 0;
      while (k < len && buf[s + k] === word[k]) k++;
      if (k === len) return w;
    }
    return -1;
  }

  /** The last string as text (messages, headers; not for hot paths). */
  text(): string {
    return this.buf.toString("utf8", this.s, this.e);
  }
}
