// A growable byte buffer that writes ClickHouse RowBinary values (little-endian numbers,
// LEB128-prefixed strings). One per encode call; rows can be rolled back to a mark.
/** A buffer at least twice as large holding `buf`'s first `used` bytes, with room for `more`. */
export const grown = (buf: Buffer, used: number, more: number): Buffer => {
  let size = buf.length * 2;
  while (size < used + more) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, used);
  return next;
};

export class RowBinaryWriter {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get length(): number {
    return this.pos;
  }

  /** Forget everything written after `mark` (a row that turned out unencodable). */
  rollback(mark: number): void {
    this.pos = mark;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = grown(this.buf, this.pos, n);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  // Numbers as byte stores: Buffer's write*LE methods check their arguments on every call.
  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    this.pos = p + 2;
  }

  i32(v: number): void {
    this.u32(v);
  }

  i64(v: bigint): void {
    this.ensure(8);
    // DataView's native BigInt store; Buffer.writeBigInt64LE splits the value with BigInt math
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  varint(n: number): void {
    this.ensure(10);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  string(s: string): void {
    const len = s.length;
    // Short ASCII (names, labels, IPs): copy char codes; Buffer.write costs more than the copy.
    if (len < 128) {
      this.ensure(1 + len);
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[start + i] = c;
      }
      if (i === len) {
        this.buf[this.pos] = len;
        this.pos = start + len;
        return;
      }
    }
    // Worst case 3 bytes per UTF-16 unit; write first, then patch in the real length.
    if (len < 43) {
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, "utf8");
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, "utf8");
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, "utf8");
    this.pos += n;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** Copy `src[start, end)` as is. */
  rawBuffer(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n > 64) src.copy(this.buf, this.pos, start, end);
    else for (let i = 0; i < n; i++) this.buf[this.pos + i] = src[start + i]!;
    this.pos += n;
  }

  raw(bytes: ArrayLike<number>): void {
    this.ensure(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = bytes[i] ?? 0;
  }
}
