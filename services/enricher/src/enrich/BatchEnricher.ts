// RawFlow batch bytes in, EnrichedFlow batch bytes out. Fast path (the batch was written with
// the current RawFlow schema): scan, look both ends up, and write each raw record's bytes followed
// by the two endpoints' cached Avro bytes — an EnrichedFlow by construction of the schema.
// Batches from an older RawFlow writer schema go through full decode + encode instead.
import * as Either from "effect/Either";
import { loadSchemaFile, parseSchema } from "@netpulse/runtime/codec/avro";
import { asBuffer } from "@netpulse/runtime/codec/BatchCodec";
import { CodecError } from "@netpulse/runtime/codec/CodecError";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { Batch } from "@netpulse/runtime/records";
import type { MetadataIndex } from "../index/MetadataIndex.js";
import type { Target } from "../index/Target.js";
import { enrichFlow } from "./enrichFlow.js";
import { AvroCursorError } from "@netpulse/runtime/codec/AvroCursor";
import { RawFlowScanner, ScanError, type ScannedFlow } from "./RawFlowScanner.js";

const batchType = parseSchema(loadSchemaFile("batch.v1.avsc"));

export const END_KINDS = ["pod", "node", "service", "external", "unknown"] as const;
export type EndKind = (typeof END_KINDS)[number];
export type EndCounts = Record<EndKind, number>;

export interface EnrichedBatch {
  /** Encoded Batch envelope of EnrichedFlow records. */
  readonly value: Buffer;
  readonly count: number;
  /** Resolved ends by kind (2 per flow). */
  readonly ends: EndCounts;
  /** Whether the zero-copy path was taken. */
  readonly passthrough: boolean;
}

const zigzagVarint = (n: number, out: Buffer, pos: number): number => {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  out[pos++] = z;
  return pos;
};

const count = (ends: EndCounts, t: Target) => {
  const k = t.kind as EndKind;
  ends[k] = (ends[k] ?? 0) + 1;
};

const garbage = (message: string, cause?: unknown) => new CodecError({ kind: "garbage", message, cause });

export class BatchEnricher {
  private readonly scanner = new RawFlowScanner();
  private readonly scanned: ScannedFlow[] = [];
  private readonly src: Target[] = [];
  private readonly dst: Target[] = [];
  private sequence = 0n;

  constructor(
    private readonly index: MetadataIndex,
    private readonly producer: string,
  ) {}

  enrich(bytes: Uint8Array): Either.Either<EnrichedBatch, CodecError> {
    let batch: Batch;
    try {
      batch = batchType.fromBuffer(asBuffer(bytes)) as Batch;
    } catch (cause) {
      return Either.left(
        garbage(`undecodable batch envelope: ${cause instanceof Error ? cause.message : String(cause)}`, cause),
      );
    }
    if (batch.schema !== RawFlowCodec.name || batch.schema_fingerprint !== RawFlowCodec.fingerprint)
      return this.slowPath(bytes);
    let n: number;
    try {
      n = this.scanner.scan(batch.records, this.scanned);
    } catch (cause) {
      if (cause instanceof ScanError) return Either.left(new CodecError({ kind: cause.kind, message: cause.message }));
      if (cause instanceof AvroCursorError)
        return Either.left(
          new CodecError({ kind: cause.kind, message: `undecodable RawFlow array: ${cause.message}` }),
        );
      return Either.left(garbage(`undecodable RawFlow array: ${String(cause)}`, cause));
    }
    if (n !== batch.count) return Either.left(garbage(`batch says ${batch.count} records, holds ${n}`));
    return Either.right(this.writePassthrough(batch.records, n));
  }

  /** Mean seconds per lookup, re-resolving the ends of the last passthrough batch (for sampled metrics). */
  timeLastLookups(): number {
    const n = this.lastCount;
    if (n === 0) return 0;
    const raw = this.lastRaw;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const f = this.scanned[i] as ScannedFlow;
      this.resolveEnd(raw, f.srcV4, f.srcAt, f.srcEnd, f.startMs);
      this.resolveEnd(raw, f.dstV4, f.dstAt, f.dstEnd, f.startMs);
    }
    return Number(process.hrtime.bigint() - t0) / 1e9 / (2 * n);
  }

  private lastCount = 0;
  private lastRaw: Buffer = Buffer.alloc(0);

  /** IPv4 by number first (no string built); the text path for IPv6, first sightings and time-dependent answers. */
  private resolveEnd(raw: Buffer, v4: number, at: number, end: number, t: number): Target {
    if (v4 >= 0) {
      const hit = this.index.ips.lookupV4(v4, t);
      if (hit !== null) return hit;
    }
    return this.index.resolve(raw.toString("latin1", at, end), t);
  }

  private writePassthrough(raw: Buffer, n: number): EnrichedBatch {
    this.lastCount = n;
    this.lastRaw = raw;
    const ends: EndCounts = { pod: 0, node: 0, service: 0, external: 0, unknown: 0 };
    const scanned = this.scanned;
    const countLen = n > 0 ? zigzagVarint(n, this.scratch, 0) : 0;
    let recordsLen = countLen + 1; // block count, records, end-of-array 0
    for (let i = 0; i < n; i++) {
      const f = scanned[i] as ScannedFlow;
      const s = this.resolveEnd(raw, f.srcV4, f.srcAt, f.srcEnd, f.startMs);
      const d = this.resolveEnd(raw, f.dstV4, f.dstAt, f.dstEnd, f.startMs);
      this.src[i] = s;
      this.dst[i] = d;
      recordsLen += f.end - f.start + s.encoded().length + d.encoded().length;
    }
    // The envelope's last field is `records: bytes`: header (encoded with empty records, minus
    // that empty value's 0 length), the length, then the records written in place — one buffer,
    // no second copy.
    const header = this.header(n);
    const headLen = header.length - 1;
    const out = Buffer.allocUnsafe(headLen + 10 + recordsLen);
    header.copy(out, 0, 0, headLen);
    let pos = zigzagVarint(recordsLen, out, headLen);
    if (n > 0) pos = zigzagVarint(n, out, pos);
    for (let i = 0; i < n; i++) {
      const f = scanned[i] as ScannedFlow;
      const s = this.src[i] as Target;
      const d = this.dst[i] as Target;
      // TypedArray#set measured faster here than Buffer#copy for these small copies.
      out.set(raw.subarray(f.start, f.end), pos);
      pos += f.end - f.start;
      const se = s.encoded();
      out.set(se, pos);
      pos += se.length;
      const de = d.encoded();
      out.set(de, pos);
      pos += de.length;
      count(ends, s);
      count(ends, d);
    }
    out[pos++] = 0;
    return { value: out.subarray(0, pos), count: n, ends, passthrough: true };
  }

  /** Older writer schema (or a batch the scanner can't vouch for): decode, enrich objects, encode. */
  private slowPath(bytes: Uint8Array): Either.Either<EnrichedBatch, CodecError> {
    return Either.map(RawFlowCodec.decodeBatch(bytes), ({ records }) => {
      const ends: EndCounts = { pod: 0, node: 0, service: 0, external: 0, unknown: 0 };
      const enriched = records.map((r) => enrichFlow(this.index, r, (t) => count(ends, t)));
      const value = EnrichedFlowCodec.encodeBatch(enriched, { producer: this.producer, sequence: this.sequence++ });
      return { value, count: records.length, ends, passthrough: false };
    });
  }

  private readonly scratch = Buffer.alloc(10);

  /** The Batch envelope of `n` EnrichedFlow records, with empty `records`. */
  private header(n: number): Buffer {
    const batch: Batch = {
      schema: EnrichedFlowCodec.name,
      schema_fingerprint: EnrichedFlowCodec.fingerprint,
      producer: this.producer,
      sequence: this.sequence++,
      created_ns: BigInt(Date.now()) * 1_000_000n,
      count: n,
      records: Buffer.alloc(0),
    };
    return batchType.toBuffer(batch);
  }
}
