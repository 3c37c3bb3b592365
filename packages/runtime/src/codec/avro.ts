// Avro types built once from schemas/*.avsc. Every `long` decodes to a bigint so u64 counters,
// ns timestamps and flow ids keep full precision (avsc's default long is a lossy JS number).
import { readFileSync, readdirSync } from "node:fs";
import avro from "avsc";

const schemasDir = new URL("../../../../schemas/", import.meta.url);

const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === "bigint",
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
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
export const schemaVersions = (base: string): ReadonlyArray<{ readonly version: number; readonly schema: AvroSchema }> =>
  readdirSync(schemasDir)
    .map((f) => new RegExp(`^${base}\\.v(\\d+)\\.avsc$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), schema: loadSchemaFile(m[0]) }))
    .sort((a, b) => a.version - b.version);

/** Hex SHA-256 of the schema's Parsing Canonical Form: what a Batch names its writer schema by. */
export const fingerprint = (type: avro.Type): string => type.fingerprint("sha256").toString("hex");
