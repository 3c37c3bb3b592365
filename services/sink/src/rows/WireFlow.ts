// Enriched-flow bus batches straight from Avro bytes to the columns of netpulse.flows (in the
// server's dialect, Native layout), without building JS objects: decoding enriched flows into objects
// cost ≈3.5 µs a record here, more than encoding and the server's insert together. A message
// becomes one ColumnBlock; each row keeps its identity and its own Avro bytes (for the DLQ, and
// to be transcoded again when a batch needs only some rows of a message). The same semantic
// checks as the codec apply; a batch written with another writer schema goes through the codec.
import * as Either from "effect/Either";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { CodecError } from "@netpulse/runtime/codec/CodecError";
import { AvroCursor, AvroCursorError } from "@netpulse/runtime/codec/AvroCursor";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { FlowTranscoder } from "./FlowTranscoder.js";
import type { ColumnBlock } from "./NativeBlock.js";
import { RowBinaryWriter } from "./RowBinaryWriter.js";

/** One bus message transcoded: its rows' columns, identities and Avro, side by side. */
export interface WireBatch {
  readonly columns: ColumnBlock;
  /** flow_id and start_ns per row, Int64 LE each (16 bytes a row). */
  readonly keys: Buffer;
  /** The same bytes as four 32-bit words a row (for hashing and comparing identities). */
  readonly words: Int32Array;
  /** The records' Avro. */
  readonly avro: Buffer;
  /** Row i's Avro: avro[marks[2i], marks[2i + 1]). */
  readonly marks: Int32Array;
  /** Rows the dialect's columns cannot hold (modern: an IP that is none), with the reason; rare. */
  readonly problems: ReadonlyMap<number, string> | undefined;
}

/**
 * One row of a WireBatch. Two fields, the rest derived: a sink holds three batches of 50 k of
 * these, and every field more is garbage the collector walks.
 */
export class WireFlow {
  constructor(
    readonly batch: WireBatch,
    readonly i: number,
  ) {}
  /** The identity's 16 key bytes as a latin1 string (commit lanes; de-duplication uses `words`). */
  get key(): string {
    return this.batch.keys.toString("latin1", 16 * this.i, 16 * this.i + 16);
  }
  get keys(): Buffer {
    return this.batch.keys;
  }
  get keyAt(): number {
    return 16 * this.i;
  }
  get avro(): Buffer {
    return this.batch.avro;
  }
  get avroStart(): number {
    return this.batch.marks[2 * this.i]!;
  }
  get avroEnd(): number {
    return this.batch.marks[2 * this.i + 1]!;
  }
}

/** The row's own Avro encoding (for the DLQ). */
export const avroOf = (f: WireFlow): Buffer => Buffer.from(f.avro.subarray(f.avroStart, f.avroEnd));

/** The identity as ClickHouse prints it in TabSeparated: `flow_id\0start_ns` in decimal. */
export const decimalKey = (f: WireFlow): string =>
  `${f.keys.readBigInt64LE(f.keyAt)}\u0000${f.keys.readBigInt64LE(f.keyAt + 8)}`;

const writeU32 = (b: Buffer, p: number, v: number): void => {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
};

const fail = (kind: "garbage" | "truncated" | "invalid_record", message: string) =>
  Either.left(new CodecError({ kind, message }));

const cursor = new AvroCursor();
const transcoders: { legacy?: FlowTranscoder; modern?: FlowTranscoder } = {};
const transcoderFor = (d: Dialect): FlowTranscoder => (transcoders[d] ??= new FlowTranscoder(d));

/** Records of an Avro array (its block encoding) as WireFlows, for a server of dialect `d`. */
export const transcodeRecords = (
  records: Buffer,
  expected: number,
  d: Dialect = "legacy",
): Either.Either<WireFlow[], CodecError> => {
  if (expected < 0 || expected > records.length)
    return fail("garbage", `batch says ${expected} records in ${records.length} bytes`);
  const t = transcoderFor(d);
  t.begin(records);
  let problems: Map<number, string> | undefined;
  const words = new Int32Array(expected * 4);
  const keys = Buffer.from(words.buffer);
  const marks = new Int32Array(expected * 2);
  let count = 0;
  try {
    for (let n = t.block(); n !== 0; n = t.block()) {
      for (let i = 0; i < n; i++) {
        if (count >= expected) return fail("garbage", `batch says ${expected} records, holds more`);
        const avroStart = t.pos;
        const problem = t.record();
        if (problem !== undefined)
          return fail("invalid_record", `invalid netpulse.v1.EnrichedFlow at index ${count}: ${problem}`);
        if (t.rowProblem !== undefined) (problems ??= new Map()).set(count, t.rowProblem);
        const k = count * 16;
        writeU32(keys, k, t.flowLo);
        writeU32(keys, k + 4, t.flowHi);
        writeU32(keys, k + 8, t.startLo);
        writeU32(keys, k + 12, t.startHi);
        marks[2 * count] = avroStart;
        marks[2 * count + 1] = t.pos;
        count++;
      }
    }
  } catch (e) {
    return fail(
      e instanceof AvroCursorError ? e.kind : "garbage",
      `undecodable Avro data: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (t.pos !== records.length || count !== expected)
    return fail("garbage", `batch says ${expected} records, holds ${count} (${records.length - t.pos} bytes left)`);
  const batch: WireBatch = { columns: t.finish(), keys, words, avro: records, marks, problems };
  const out: WireFlow[] = new Array<WireFlow>(count);
  for (let i = 0; i < count; i++) out[i] = new WireFlow(batch, i);
  return Either.right(out);
};

/** A bus message (Batch envelope) of enriched flows, for a server of dialect `d`. */
export const transcodeBatch = (bytes: Buffer, d: Dialect = "legacy"): Either.Either<WireFlow[], CodecError> => {
  const c = cursor.reset(bytes);
  let header: { schema: string; fp: string; count: number; records: Buffer };
  try {
    c.string();
    const schema = c.text();
    c.string();
    const fp = c.text();
    c.string(); // producer
    c.skip(); // sequence
    c.skip(); // created_ns
    const count = c.int();
    c.string();
    if (c.overrun) throw new AvroCursorError("truncated", "batch header runs past the end");
    header = { schema, fp, count, records: bytes.subarray(c.s, c.e) };
  } catch (e) {
    return fail("garbage", `undecodable Avro data: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (header.schema !== EnrichedFlowCodec.name)
    return fail("garbage", `batch holds ${header.schema}, expected ${EnrichedFlowCodec.name}`);
  if (header.fp === EnrichedFlowCodec.fingerprint) return transcodeRecords(header.records, header.count, d);
  // an older writer schema: let the codec resolve it, then take the current encoding
  return Either.flatMap(EnrichedFlowCodec.decodeBatch(bytes), ({ records }) =>
    transcodeEach(
      records.map((x) => Buffer.from(EnrichedFlowCodec.encode(x))),
      d,
    ),
  );
};

/** Records (each its own Avro encoding) transcoded as one message. */
export const transcodeEach = (
  records: ReadonlyArray<Buffer>,
  d: Dialect = "legacy",
): Either.Either<WireFlow[], CodecError> =>
  transcodeRecords(Buffer.concat([arrayBlockHeader(records.length), ...records, Buffer.from([0])]), records.length, d);

const arrayBlockHeader = (n: number): Buffer => {
  const w = new RowBinaryWriter(16);
  w.varint(n * 2); // zig-zag of a positive count
  return Buffer.from(w.bytes());
};
