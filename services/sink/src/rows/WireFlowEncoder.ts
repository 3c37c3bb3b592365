// The RowEncoder of netpulse.flows for rows transcoded straight from Avro (WireFlow.ts): rows
// that are whole messages, in order (every batch without repeats or stored rows), are their
// messages' column blocks joined into one Native block; any other selection of rows (repeats
// dropped, rows already stored, halves of a bisected batch) is transcoded again from the rows'
// own Avro first. Keys are copied from the key buffers.
import * as Either from "effect/Either";
import { insertStatementOf, makeRowEncoder, type RowEncoder } from "./RowEncoder.js";
import { FLOW_COLUMNS } from "./FlowTranscoder.js";
import { nativeBlock, type ColumnBlock } from "./NativeBlock.js";
import { flows } from "../schema/tables.js";
import { avroOf, decimalKey, transcodeEach, type WireFlow } from "./WireFlow.js";

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

const columnsOf = (rows: ReadonlyArray<WireFlow>): ColumnBlock[] => {
  const whole = wholeMessages(rows);
  if (whole !== undefined) return whole;
  const again = transcodeEach(rows.map(avroOf));
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

export const makeWireFlowEncoder = (db: string): RowEncoder<WireFlow> => {
  const base = makeRowEncoder(flows, "legacy", db);
  return {
    spec: flows as unknown as RowEncoder<WireFlow>["spec"],
    insertStatement: insertStatementOf(flows, db, "Native"),
    keyStructure: base.keyStructure,
    keyColumns: base.keyColumns,
    keyOf: (f) => f.key,
    unique: firstOfEach,
    storedKeyOf: decimalKey,
    encode: (rows) => ({ body: nativeBlock(FLOW_COLUMNS, columnsOf(rows)), encoded: [...rows], rejected: [] }),
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
