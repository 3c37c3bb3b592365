// The RowEncoder of netpulse.flows for rows transcoded straight from Avro (WireFlow.ts), on
// either dialect: rows that are whole messages, in order (every batch without repeats or stored
// rows), are their messages' column blocks joined into one Native block; any other selection of
// rows (repeats dropped, rows already stored, halves of a bisected batch, rows the dialect cannot
// hold left out) is transcoded again from the rows' own Avro first. Keys are copied from the key
// buffers.
import * as Either from "effect/Either";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import { insertStatementOf, makeRowEncoder, type Rejected, type RowEncoder } from "./RowEncoder.js";
import { flowColumns } from "./FlowTranscoder.js";
import { nativeBlock, type ColumnBlock } from "./NativeBlock.js";
import { flows } from "../schema/tables.js";
import { avroOf, decimalKey, transcodeBatch, transcodeEach, type WireFlow } from "./WireFlow.js";

/** The flows encoder for transcoded rows, with the decoder that makes them for its dialect. */
export interface WireFlowEncoder extends RowEncoder<WireFlow> {
  readonly dialect: Dialect;
  /** A bus message to rows this encoder takes (transcodeBatch in its dialect). */
  readonly decode: (bytes: Buffer) => Either.Either<WireFlow[], CodecError>;
}

/** The column blocks of the messages `rows` are, if they are whole messages in order. */
const wholeMessages = (rows: ReadonlyArray<WireFlow>): ColumnBlock[] | undefined => {
  const blocks: ColumnBlock[] = [];
  for (let k = 0; k < rows.length;) {
    const { batch } = rows[k]!;
    const n = batch.columns.rows;
    for (let i = 0; i < n; i++, k++) if (rows[k]?.batch !== batch || rows[k]!.i !== i) return undefined;
    blocks.push(batch.columns);
  }
  return blocks;
};

const columnsOf = (rows: ReadonlyArray<WireFlow>, d: Dialect): ColumnBlock[] => {
  const whole = wholeMessages(rows);
  if (whole !== undefined) return whole;
  const again = transcodeEach(rows.map(avroOf), d);
  // these rows were transcoded once already; failing now would be a defect here, not bad data
  if (Either.isLeft(again)) throw new Error(`re-transcoding ${rows.length} flows failed: ${again.left.message}`);
  return again.right.length === 0 ? [] : [again.right[0]!.batch.columns];
};

/**
 * First occurrences of each identity, in order: an open-addressing table of row numbers keyed by
 * the 16 identity bytes as four words (a Set of 16-byte strings cost a string per row, about 8 %
 * of the sink's main thread).
 */
const firstOfEach = (rows: ReadonlyArray<WireFlow>): WireFlow[] => {
  let size = 1024;
  while (size < rows.length * 2) size *= 2;
  const mask = size - 1;
  const slots = new Int32Array(size); // row number + 1, 0 = free
  const out: WireFlow[] = [];
  for (let r = 0; r < rows.length; r++) {
    const f = rows[r]!;
    const w = f.batch.words;
    const k = 4 * f.i;
    const a = w[k]!;
    const b = w[k + 1]!;
    const c = w[k + 2]!;
    const d = w[k + 3]!;
    let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca77) ^ Math.imul(d, 0xc2b2ae3d), 0x27d4eb2f);
    h ^= h >>> 15;
    for (;;) {
      const slot = h & mask;
      const seen = slots[slot]!;
      if (seen === 0) {
        slots[slot] = r + 1;
        out.push(f);
        break;
      }
      const g = rows[seen - 1]!;
      const v = g.batch.words;
      const m = 4 * g.i;
      if (v[m] === a && v[m + 1] === b && v[m + 2] === c && v[m + 3] === d) break; // a repeat
      h = slot + 1;
    }
  }
  return out;
};

/** Rows the dialect can hold, and the others with their reasons (none in the usual batch). */
const holdable = (rows: ReadonlyArray<WireFlow>): { good: ReadonlyArray<WireFlow>; rejected: Rejected<WireFlow>[] } => {
  let clean = true;
  for (let k = 0; k < rows.length && clean; k++) clean = rows[k]!.batch.problems === undefined;
  if (clean) return { good: rows, rejected: [] };
  const good: WireFlow[] = [];
  const rejected: Rejected<WireFlow>[] = [];
  for (const f of rows) {
    const reason = f.batch.problems?.get(f.i);
    if (reason === undefined) good.push(f);
    else rejected.push({ row: f, reason });
  }
  return { good, rejected };
};

export const makeWireFlowEncoder = (db: string, dialect: Dialect = "legacy"): WireFlowEncoder => {
  const base = makeRowEncoder(flows, dialect, db);
  const columns = flowColumns(dialect);
  return {
    dialect,
    decode: (bytes) => transcodeBatch(bytes, dialect),
    spec: flows as unknown as RowEncoder<WireFlow>["spec"],
    insertStatement: insertStatementOf(flows, db, "Native"),
    keyStructure: base.keyStructure,
    keyColumns: base.keyColumns,
    keyOf: (f) => f.key,
    unique: firstOfEach,
    storedKeyOf: decimalKey,
    encode: (rows) => {
      const { good, rejected } = holdable(rows);
      return { body: nativeBlock(columns, columnsOf(good, dialect)), encoded: [...good], rejected };
    },
    encodeKeys: (rows) => {
      const out = Buffer.allocUnsafe(16 * rows.length);
      let q = 0;
      for (const f of rows) {
        const { keys, keyAt } = f;
        for (let i = keyAt; i < keyAt + 16; i++) out[q++] = keys[i]!;
      }
      return out;
    },
  };
};
