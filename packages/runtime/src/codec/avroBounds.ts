// Walks Avro bytes by their writer schema before avsc decodes them. avsc believes every array and
// map block count: one corrupted count (say 2^31 items) in a bus message made it loop for minutes
// reading past the end, stalling the consumer (found by the corruption tests of the sink's
// transcoder and the enricher). Every item of our arrays and maps takes at least one byte, so a
// count larger than the bytes left is refused here; strings, bytes and fixed must fit as well.
// The walk reads each byte once and builds nothing.
import type { AvroType } from "./avro.js";
import { AvroCursor, AvroCursorError } from "./AvroCursor.js";

type Walk = (c: AvroCursor) => void;

/** Items of zero bytes (arrays of null) cannot be bounded by size; cap their count instead. */
const MAX_EMPTY_ITEMS = 1 << 20;

interface Introspected {
  readonly typeName: string;
  readonly fields?: ReadonlyArray<{ readonly type: AvroType }>;
  readonly itemsType?: AvroType;
  readonly valuesType?: AvroType;
  readonly types?: ReadonlyArray<AvroType>;
  readonly symbols?: ReadonlyArray<string>;
  readonly size?: number;
  readonly underlyingType?: AvroType;
}

const fail = (what: string, c: AvroCursor): never => {
  throw new AvroCursorError("garbage", `${what} at byte ${c.pos}`);
};

/** Whether every value of the type takes at least one byte. */
const nonEmpty = (t: AvroType, seen = new Set<AvroType>()): boolean => {
  const i = t as unknown as Introspected;
  if (seen.has(t)) return true;
  seen.add(t);
  if (i.typeName === "null") return false;
  if (i.typeName === "record" || i.typeName === "error") return (i.fields ?? []).some((f) => nonEmpty(f.type, seen));
  if (i.typeName === "fixed") return (i.size ?? 0) > 0;
  if (i.underlyingType !== undefined && i.typeName.startsWith("logical")) return nonEmpty(i.underlyingType, seen);
  return true;
};

const compile = (t: AvroType, memo: Map<AvroType, Walk>): Walk => {
  const known = memo.get(t);
  if (known !== undefined) return known;
  let walk: Walk = () => undefined;
  // registered before compiling children, so recursive types refer to it
  memo.set(t, (c) => walk(c));
  const i = t as unknown as Introspected;
  const name = i.typeName.replace(/^abstract:/, "");
  if (name === "null") walk = () => undefined;
  else if (name === "boolean") walk = (c) => void c.pos++;
  else if (name === "int" || name === "long") walk = (c) => c.skip();
  else if (name === "float") walk = (c) => void (c.pos += 4);
  else if (name === "double") walk = (c) => void (c.pos += 8);
  else if (name === "string" || name === "bytes") walk = (c) => c.string();
  else if (name === "fixed") {
    const size = i.size ?? 0;
    walk = (c) => {
      if (c.pos + size > c.buf.length) fail(`fixed of ${size} bytes runs past the end`, c);
      c.pos += size;
    };
  } else if (name === "enum") {
    const n = i.symbols?.length ?? 0;
    walk = (c) => {
      const k = c.int();
      if (k < 0 || k >= n) fail(`enum index ${k} of ${n}`, c);
    };
  } else if (name === "record" || name === "error") {
    const fields = (i.fields ?? []).map((f) => compile(f.type, memo));
    walk = (c) => {
      for (const f of fields) f(c);
    };
  } else if (name.startsWith("union")) {
    const branches = (i.types ?? []).map((b) => compile(b, memo));
    walk = (c) => {
      const k = c.int();
      const branch = branches[k];
      if (branch === undefined) fail(`union branch ${k} of ${branches.length}`, c);
      else branch(c);
    };
  } else if (name === "array" || name === "map") {
    const item = i.itemsType ?? i.valuesType;
    if (item === undefined) throw new Error(`avroBounds: ${name} without an item type`);
    const value = compile(item, memo);
    const isMap = name === "map";
    const sized = isMap || nonEmpty(item);
    walk = (c) => {
      for (let n = c.block(); n !== 0; n = c.block()) {
        if (n < 0 || (sized ? n > c.buf.length - c.pos : n > MAX_EMPTY_ITEMS))
          fail(`${name} block of ${n} items with ${c.buf.length - c.pos} bytes left`, c);
        for (let k = 0; k < n; k++) {
          if (isMap) c.string();
          value(c);
        }
      }
    };
  } else if (i.underlyingType !== undefined) walk = compile(i.underlyingType, memo);
  else throw new Error(`avroBounds: no walk for Avro type ${i.typeName}`);
  return memo.get(t)!;
};

/**
 * A checker for bytes written with `type`: throws AvroCursorError when a count, length or index
 * cannot be right, or the data runs out; otherwise returns where the value ended.
 */
export const boundsChecker = (type: AvroType): ((bytes: Buffer) => number) => {
  const walk = compile(type, new Map());
  const c = new AvroCursor();
  return (bytes) => {
    c.reset(bytes);
    walk(c);
    if (c.overrun) throw new AvroCursorError("truncated", `value runs past the end (${bytes.length} bytes)`);
    return c.pos;
  };
};
