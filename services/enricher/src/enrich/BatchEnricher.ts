// RawFlow batch bytes in, EnrichedFlow batch bytes out, one batch per partition of the enriched
// topic: records are re-keyed by their sorted workload pair (flowKey.ts), so every flow of one
// pair reaches one detector replica, in order. Fast path (the batch was written with the current
// RawFlow schema): scan, look both ends up, and write each raw record's bytes followed by the two
// endpoints' cached Avro bytes — an EnrichedFlow by construction of the schema. Batches from an
// older RawFlow writer schema go through full decode + encode instead. Output envelopes carry the
// input batch's created_ns, so the same input always gives the same bytes.
import * as Either from "effect/Either";
import { loadSchemaFile, parseSchema } from "@netpulse/runtime/codec/avro";
import { asBuffer } from "@netpulse/runtime/codec/BatchCodec";
import { CodecError } from "@netpulse/runtime/codec/CodecError";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { OutgoingMessage } from "@netpulse/runtime/bus/Bus";
import { groupByPartition } from "@netpulse/runtime/bus/partitionGroups";
import { shardOf } from "@netpulse/runtime/bus/shard";
import { flowKey, workloadPairKey } from "@netpulse/runtime/flowKey";
import type { Batch, EnrichedFlow } from "@netpulse/runtime/records";
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
  /** Batch envelopes of EnrichedFlow records, one per partition of the enriched topic, with that partition. */
  readonly messages: ReadonlyArray<OutgoingMessage>;
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
    /** Partitions of the enriched topic. */
    private readonly partitions: number,
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
    return Either.right(this.writePassthrough(batch.records, n, batch.created_ns));
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

  private readonly shard: number[] = [];

  private writePassthrough(raw: Buffer, n: number, createdNs: bigint): EnrichedBatch {
    this.lastCount = n;
    this.lastRaw = raw;
    const ends: EndCounts = { pod: 0, node: 0, service: 0, external: 0, unknown: 0 };
    const scanned = this.scanned;
    // Per partition: records, their bytes, and the first record's key (the message key).
    const counts = new Map<number, { n: number; len: number; key: string }>();
    for (let i = 0; i < n; i++) {
      const f = scanned[i] as ScannedFlow;
      const s = this.resolveEnd(raw, f.srcV4, f.srcAt, f.srcEnd, f.startMs);
      const d = this.resolveEnd(raw, f.dstV4, f.dstAt, f.dstEnd, f.startMs);
      this.src[i] = s;
      this.dst[i] = d;
      const key = flowKey(
        s.endKey(() => raw.toString("latin1", f.srcAt, f.srcEnd)),
        d.endKey(() => raw.toString("latin1", f.dstAt, f.dstEnd)),
      );
      const p = shardOf(key, this.partitions);
      this.shard[i] = p;
      const len = f.end - f.start + s.encoded().length + d.encoded().length;
      const c = counts.get(p);
      if (c === undefined) counts.set(p, { n: 1, len, key });
      else {
        c.n++;
        c.len += len;
      }
    }
    const messages: OutgoingMessage[] = [];
    for (const [p, c] of [...counts].sort((a, b) => a[0] - b[0])) {
      messages.push({ key: c.key, partition: p, value: this.writeGroup(raw, n, p, c.n, c.len, createdNs, ends) });
    }
    return { messages, count: n, ends, passthrough: true };
  }

  /** One envelope holding the records of partition `p` (of `m` records, `len` bytes), in input order. */
  private writeGroup(
    raw: Buffer,
    n: number,
    p: number,
    m: number,
    len: number,
    createdNs: bigint,
    ends: EndCounts,
  ): Buffer {
    const scanned = this.scanned;
    const countLen = zigzagVarint(m, this.scratch, 0);
    const recordsLen = countLen + len + 1; // block count, records, end-of-array 0
    // The envelope's last field is `records: bytes`: header (encoded with empty records, minus
    // that empty value's 0 length), the length, then the records written in place — one buffer,
    // no second copy.
    const header = this.header(m, createdNs);
    const headLen = header.length - 1;
    const out = Buffer.allocUnsafe(headLen + 10 + recordsLen);
    header.copy(out, 0, 0, headLen);
    let pos = zigzagVarint(recordsLen, out, headLen);
    pos = zigzagVarint(m, out, pos);
    for (let i = 0; i < n; i++) {
      if (this.shard[i] !== p) continue;
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
    return out.subarray(0, pos);
  }

  /** Older writer schema (or a batch the scanner can't vouch for): decode, enrich objects, encode. */
  private slowPath(bytes: Uint8Array): Either.Either<EnrichedBatch, CodecError> {
    return Either.map(RawFlowCodec.decodeBatch(bytes), ({ header, records }) => {
      const ends: EndCounts = { pod: 0, node: 0, service: 0, external: 0, unknown: 0 };
      const enriched = records.map((r) => enrichFlow(this.index, r, (t) => count(ends, t)));
      const groups = groupByPartition(enriched, workloadPairKey, this.partitions);
      const messages = [...groups]
        .sort((a, b) => a[0] - b[0])
        .map(([partition, group]) => ({
          key: workloadPairKey(group[0] as EnrichedFlow),
          partition,
          value: EnrichedFlowCodec.encodeBatch(group, {
            producer: this.producer,
            sequence: this.sequence++,
            createdNs: header.createdNs,
          }),
        }));
      return { messages, count: records.length, ends, passthrough: false };
    });
  }

  private readonly scratch = Buffer.alloc(10);

  /** The Batch envelope of `n` EnrichedFlow records, with empty `records`. */
  private header(n: number, createdNs: bigint): Buffer {
    const batch: Batch = {
      schema: EnrichedFlowCodec.name,
      schema_fingerprint: EnrichedFlowCodec.fingerprint,
      producer: this.producer,
      sequence: this.sequence++,
      created_ns: createdNs,
      count: n,
      records: Buffer.alloc(0),
    };
    return batchType.toBuffer(batch);
  }
}
