// Avro types built once from schemas/*.avsc. Every `long` decodes to a bigint so u64 counters,
// ns timestamps and flow ids keep full precision (avsc's default long is a lossy JS number).
import { readFileSync, readdirSync } from "node:fs";
import avro from "avsc";

const schemasDir = new URL("../../../../schemas/", import.meta.url);

const TWO_52 = 2n ** 52n;
const INT64_MIN = -(2n ** 63n);
const INT64_END = 2n ** 63n;
const isInt64 = (n: unknown): n is bigint => typeof n === "bigint" && n >= INT64_MIN && n < INT64_END;

interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
  skipLong(): void;
}

// avsc's own bigint recipe (`LongType.__with`) unpacks every long into a fresh 8-byte Buffer,
// which halves decode speed. These read and write the zigzag varint straight from the tap: plain
// float arithmetic while the value fits 49 bits, BigInt arithmetic only beyond.
function readLong(tap: Tap): bigint {
  const buf = tap.buf;
  let pos = tap.pos;
  let b = buf[pos++] ?? 0;
  let n = b & 0x7f;
  let scale = 128;
  while (b & 0x80 && scale < 2 ** 49) {
    b = buf[pos++] ?? 0;
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  if (!(b & 0x80)) {
    tap.pos = pos;
    return BigInt(n % 2 === 1 ? -(n + 1) / 2 : n / 2);
  }
  let big = BigInt(n);
  let shift = 49n;
  do {
    b = buf[pos++] ?? 0;
    big |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  tap.pos = pos;
  if (big >> 64n !== 0n) throw new Error(`long beyond 64 bits at byte ${pos}`);
  return (big >> 1n) ^ -(big & 1n);
}

function writeLong(tap: Tap, value: bigint): void {
  if (value > -TWO_52 && value < TWO_52) {
    tap.writeLong(Number(value));
    return;
  }
  const buf = tap.buf;
  let z = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  while (z >= 0x80n) {
    buf[tap.pos++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  buf[tap.pos++] = Number(z);
}

const baseLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: isInt64,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

// avsc freezes the type it builds; an object inheriting from it carries the fast paths.
const bigintLong = Object.assign(Object.create(baseLong) as avro.Type, {
  _read: readLong,
  _write(tap: Tap, value: bigint) {
    if (!isInt64(value)) throw new Error(`invalid "long": ${String(value)}`);
    writeLong(tap, value);
  },
  _skip: (tap: Tap) => tap.skipLong(),
});

export type AvroSchema = Parameters<typeof avro.Type.forSchema>[0];
export type AvroType = avro.Type;

/**
 * Parse a schema with the bigint long. `registry` collects named types as they are defined, so a
 * later schema can refer to one (Anomaly refers to netpulse.v1.Endpoint).
 */
export const parseSchema = (schema: AvroSchema, registry: Record<string, avro.Type> = {}): avro.Type => {
  registry["long"] = bigintLong;
  return avro.Type.forSchema(schema, { registry, wrapUnions: false });
};

/** Read one schema file from schemas/ as JSON. */
export const loadSchemaFile = (file: string): AvroSchema =>
  JSON.parse(readFileSync(new URL(file, schemasDir), "utf8")) as AvroSchema;

/** Every version of one record schema found in schemas/, e.g. raw-flow.v1.avsc, raw-flow.v2.avsc, oldest first. */
export const schemaVersions = (
  base: string,
): ReadonlyArray<{ readonly version: number; readonly schema: AvroSchema }> =>
  readdirSync(schemasDir)
    .map((f) => new RegExp(`^${base}\\.v(\\d+)\\.avsc$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), schema: loadSchemaFile(m[0]) }))
    .sort((a, b) => a.version - b.version);

/** Hex SHA-256 of the schema's Parsing Canonical Form: what a Batch names its writer schema by. */
export const fingerprint = (type: avro.Type): string => type.fingerprint("sha256").toString("hex");
