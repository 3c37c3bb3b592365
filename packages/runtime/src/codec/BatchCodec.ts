// A typed codec for one record type: single records and Batch envelopes (schemas/batch.v1.avsc).
// The envelope names its writer schema by fingerprint, so readers decode batches written with any
// known older version of the schema (Avro schema resolution fills added fields from defaults).
import * as Either from "effect/Either";
import { type AvroSchema, type AvroType, fingerprint, loadSchemaFile, parseSchema } from "./avro.js";
import { boundsChecker } from "./avroBounds.js";
import { AvroCursorError } from "./AvroCursor.js";
import { CodecError } from "./CodecError.js";
import type { Batch } from "../records.js";
import { wallClockNs } from "../clock.js";

export interface BatchHeader {
  readonly schema: string;
  readonly schemaFingerprint: string;
  readonly producer: string;
  readonly sequence: bigint;
  readonly createdNs: bigint;
  readonly count: number;
}

export interface DecodedBatch<T> {
  readonly header: BatchHeader;
  readonly records: ReadonlyArray<T>;
}

export interface BatchCodec<T> {
  /** Full Avro name of the record type, e.g. netpulse.v1.RawFlow. */
  readonly name: string;
  readonly fingerprint: string;
  readonly type: AvroType;
  readonly encode: (record: T) => Buffer;
  readonly decode: (bytes: Uint8Array) => Either.Either<T, CodecError>;
  readonly encodeBatch: (
    records: ReadonlyArray<T>,
    /** `createdNs` defaults to the wall clock; stages that re-batch pass their input's event time. */
    meta: { readonly producer: string; readonly sequence: bigint; readonly createdNs?: bigint },
  ) => Buffer;
  readonly decodeBatch: (bytes: Uint8Array) => Either.Either<DecodedBatch<T>, CodecError>;
}

/**
 * The records of a message: a Batch envelope, or a lone record (e.g. one anomaly from another
 * producer). When neither decodes, the batch's error (what a producer of ours sends).
 */
export const decodeRecords = <T>(
  codec: BatchCodec<T>,
  bytes: Uint8Array,
): Either.Either<ReadonlyArray<T>, CodecError> => {
  const batch = codec.decodeBatch(bytes);
  if (Either.isRight(batch)) return Either.right(batch.right.records);
  const single = codec.decode(bytes);
  return Either.isRight(single) ? Either.right([single.right]) : Either.left(batch.left);
};

const batchType = parseSchema(loadSchemaFile("batch.v1.avsc"));

/** Buffer view over a Uint8Array without copying (NATS hands out Uint8Array). */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const classify = (cause: unknown): CodecError => {
  const text = cause instanceof Error ? cause.message : String(cause);
  const kind = cause instanceof AvroCursorError ? cause.kind : /truncated/i.test(text) ? "truncated" : "garbage";
  return new CodecError({
    kind,
    message: `${kind === "truncated" ? "truncated" : "undecodable"} Avro data: ${text}`,
    cause,
  });
};

type Resolver = ReturnType<AvroType["createResolver"]>;

/** A reader type, and how to check bytes of the writer type they were written with. */
interface Reading {
  readonly type: AvroType;
  readonly bounds: (bytes: Buffer) => number;
  readonly resolver?: Resolver | undefined;
}

const reading = (type: AvroType, writer: AvroType = type, resolver?: Resolver): Reading => ({
  type,
  bounds: boundsChecker(writer),
  resolver,
});

// The bounds walk first: avsc would loop on a corrupted block count (see avroBounds.ts).
const decodeWith = (r: Reading, bytes: Uint8Array) =>
  Either.try({
    try: (): unknown => {
      const buf = asBuffer(bytes);
      r.bounds(buf);
      return r.type.fromBuffer(buf, r.resolver);
    },
    catch: classify,
  });

const batchReading = reading(batchType);

export interface BatchCodecOptions<T> {
  /** The reader schema: what this code's T mirrors. */
  readonly schema: AvroSchema;
  /** Older writer schemas still readable (schema evolution). */
  readonly writers?: ReadonlyArray<AvroSchema>;
  /** Named types the schema refers to (e.g. Endpoint). */
  readonly registry?: Record<string, AvroType>;
  /** Semantic check at the edge; Avro already guarantees the structure. */
  readonly check?: (record: T) => string | undefined;
}

export const makeBatchCodec = <T>(options: BatchCodecOptions<T>): BatchCodec<T> => {
  const type = parseSchema(options.schema, { ...options.registry });
  const name = type.name ?? "anonymous";
  const arrayType = parseSchema({ type: "array", items: type } as unknown as AvroSchema);
  const own = fingerprint(type);
  const single = reading(type);
  // fingerprint → how to read that writer's array into our reader array
  const readers = new Map<string, Reading>([[own, reading(arrayType)]]);
  for (const w of options.writers ?? []) {
    const writer = parseSchema(w, { ...options.registry });
    const fp = fingerprint(writer);
    if (fp !== own) {
      const writerArray = parseSchema({ type: "array", items: writer } as unknown as AvroSchema);
      readers.set(fp, reading(arrayType, writerArray, arrayType.createResolver(writerArray)));
    }
  }
  const checked = (value: T): Either.Either<T, CodecError> => {
    const problem = options.check?.(value);
    return problem === undefined
      ? Either.right(value)
      : Either.left(new CodecError({ kind: "invalid_record", message: `invalid ${name}: ${problem}` }));
  };

  return {
    name,
    fingerprint: own,
    type,
    encode: (record) => type.toBuffer(record),
    decode: (bytes) => Either.flatMap(decodeWith(single, bytes) as Either.Either<T, CodecError>, checked),
    encodeBatch: (records, meta) => {
      const batch: Batch = {
        schema: name,
        schema_fingerprint: own,
        producer: meta.producer,
        sequence: meta.sequence,
        created_ns: meta.createdNs ?? wallClockNs(),
        count: records.length,
        records: arrayType.toBuffer(records),
      };
      return batchType.toBuffer(batch);
    },
    decodeBatch: (bytes) =>
      Either.gen(function* () {
        const batch = (yield* decodeWith(batchReading, bytes)) as Batch;
        if (batch.schema !== name) {
          return yield* Either.left(
            new CodecError({ kind: "wrong_schema", message: `batch holds ${batch.schema}, expected ${name}` }),
          );
        }
        const reader = readers.get(batch.schema_fingerprint);
        if (reader === undefined) {
          return yield* Either.left(
            new CodecError({
              kind: "wrong_schema",
              message: `unknown writer schema ${batch.schema_fingerprint.slice(0, 16)}… for ${name}`,
            }),
          );
        }
        const records = (yield* decodeWith(reader, batch.records)) as T[];
        if (records.length !== batch.count) {
          return yield* Either.left(
            new CodecError({ kind: "garbage", message: `batch says ${batch.count} records, holds ${records.length}` }),
          );
        }
        for (let i = 0; i < records.length; i++) {
          const problem = options.check?.(records[i] as T);
          if (problem !== undefined) {
            return yield* Either.left(
              new CodecError({ kind: "invalid_record", message: `invalid ${name} at index ${i}: ${problem}` }),
            );
          }
        }
        const header: BatchHeader = {
          schema: batch.schema,
          schemaFingerprint: batch.schema_fingerprint,
          producer: batch.producer,
          sequence: batch.sequence,
          createdNs: batch.created_ns,
          count: batch.count,
        };
        return { header, records };
      }),
  };
};
