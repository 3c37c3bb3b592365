// The RowEncoder of netpulse.flows for rows transcoded straight from Avro (WireFlow.ts): rows
// that are whole messages, in order (every batch without repeats or stored rows), are their
// messages' column blocks joined into one Native block; any other selection of rows (repeats
// dropped, rows already stored, halves of a bisected batch) is transcoded again from the rows'
// own Avro first. Keys are copied from the key buffers.
import { Either } from "effect";
import { makeRowEncoder, type RowEncoder } from "./RowEncoder.js";
import { FLOW_COLUMNS } from "./FlowTranscoder.js";
import { nativeBlock, type ColumnBlock } from "./NativeBlock.js";
import { insertNames } from "../schema/columns.js";
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

export const makeWireFlowEncoder = (db: string): RowEncoder<WireFlow> => {
  const base = makeRowEncoder(flows, "legacy", db);
  return {
    spec: flows as unknown as RowEncoder<WireFlow>["spec"],
    insertStatement: `INSERT INTO ${db}.${flows.name} (${insertNames(flows.columns).join(", ")}) FORMAT Native`,
    keyStructure: base.keyStructure,
    keyColumns: base.keyColumns,
    keyOf: (f) => f.key,
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
