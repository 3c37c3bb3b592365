// AvroCursor against avsc's own encoding: every long at the edges of the 64-bit range and at
// random, ints, strings, booleans, array blocks, and the errors for data that runs out.
import { describe, expect, it } from "vitest";
import { AvroCursor, AvroCursorError } from "../src/codec/AvroCursor.js";
import { parseSchema } from "../src/codec/avro.js";

const longType = parseSchema("long");
const asBigint = (c: AvroCursor) => (BigInt(c.hi) << 32n) | BigInt(c.lo);
const signed = (v: bigint) => BigInt.asIntN(64, v);

const edges = [
  0n,
  1n,
  -1n,
  63n,
  -64n,
  64n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];
let seed = 7;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
};
const randomLongs = Array.from(
  { length: 2000 },
  () => signed((BigInt(random()) << 32n) | BigInt(random())) >> BigInt(random() % 64),
);

describe("AvroCursor", () => {
  it("reads every long as avsc wrote it (lo/hi exact over 64 bits; num exact within 2^53)", () => {
    const values = [...edges, ...randomLongs];
    const bytes = Buffer.concat(values.map((v) => longType.toBuffer(v)));
    const c = new AvroCursor().reset(bytes);
    for (const v of values) {
      const at = c.pos;
      c.long();
      expect(signed(asBigint(c)), `value ${v}`).toBe(v);
      c.pos = at;
      const n = c.num();
      if (v >= -(2n ** 53n) && v <= 2n ** 53n) expect(n).toBe(Number(v));
    }
    expect(c.pos).toBe(bytes.length);
    expect(c.overrun).toBe(false);
  });

  it("reads ints with a one-byte fast path and refuses longs that do not fit 32 bits", () => {
    const ints = [0, 1, -1, 63, -64, 64, -65, 300, 2 ** 31 - 1, -(2 ** 31)];
    const c = new AvroCursor().reset(Buffer.concat(ints.map((v) => longType.toBuffer(BigInt(v)))));
    expect(ints.map(() => c.int())).toEqual(ints);
    expect(() => new AvroCursor().reset(longType.toBuffer(2n ** 31n)).int()).toThrow(AvroCursorError);
    // a tenth byte may carry only the 64th bit; more is not a long, however the bytes continue
    const beyond = Buffer.from([...Array<number>(9).fill(0xff), 0x02]);
    expect(() => new AvroCursor().reset(beyond).long()).toThrow(/beyond 64 bits/);
    expect(() => new AvroCursor().reset(beyond).skip()).toThrow(/beyond 64 bits/);
    expect(() => new AvroCursor().reset(Buffer.alloc(11, 0xff)).long()).toThrow(/beyond 64 bits/);
    expect(() => new AvroCursor().reset(Buffer.alloc(11, 0xff)).skip()).toThrow(/beyond 64 bits/);
    expect(() => void parseSchema("long").fromBuffer(beyond)).toThrow(/beyond 64 bits/);
  });

  it("finds strings, booleans, block counts and words without building strings", () => {
    const t = parseSchema({
      type: "record",
      name: "T",
      fields: [
        { name: "a", type: "string" },
        { name: "b", type: "boolean" },
        { name: "m", type: { type: "map", values: "string" } },
      ],
    });
    const bytes = t.toBuffer({ a: "sérver", b: true, m: { k: "v", x: "" } });
    const c = new AvroCursor().reset(bytes);
    c.string();
    expect(c.text()).toBe("sérver");
    expect(c.oneOf([Buffer.from("client"), Buffer.from("sérver")])).toBe(1);
    expect(c.oneOf([Buffer.from("server")])).toBe(-1);
    expect(c.boolean()).toBe(true);
    const entries: string[] = [];
    for (let n = c.block(); n !== 0; n = c.block())
      for (let i = 0; i < n; i++) {
        c.string();
        const k = c.text();
        c.string();
        entries.push(`${k}=${c.text()}`);
      }
    expect(entries).toEqual(["k=v", "x="]);
    expect(c.pos).toBe(bytes.length);
  });

  it("reads a negative block count as count plus byte size", () => {
    // -2 items, 4 bytes, then two ints, then the end of the array
    const bytes = Buffer.from([0x03, 0x08, 0x02, 0x04, 0x00]);
    const c = new AvroCursor().reset(bytes);
    expect(c.block()).toBe(2);
    expect([c.int(), c.int(), c.block()]).toEqual([1, 2, 0]);
  });

  it("says truncated for a string that runs past the end, and overrun for a varint that does", () => {
    const s = longType.toBuffer(10n); // a string length of 10 with no bytes after it
    const c = new AvroCursor().reset(s);
    expect(() => c.string()).toThrow(expect.objectContaining({ kind: "truncated" }));
    const v = new AvroCursor().reset(Buffer.from([0x80, 0x80]));
    v.long();
    expect(v.overrun).toBe(true);
  });
});
