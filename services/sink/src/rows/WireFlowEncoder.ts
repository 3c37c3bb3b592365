// The RowEncoder of netpulse.flows for rows transcoded straight from Avro (WireFlow.ts): the
// RowBinary is already made, so encoding is copying; keys are copied from the key buffer.
import { makeRowEncoder, type RowEncoder } from "./RowEncoder.js";
import { flows } from "../schema/tables.js";
import { decimalKey, type WireBatch, type WireFlow } from "./WireFlow.js";

/**
 * The bytes [start, end) of every row, from its batch's `buf`, in row order; runs of consecutive
 * rows of one batch (the usual case) are copied in one go.
 */
const spans = (
  rows: ReadonlyArray<WireFlow>,
  start: (f: WireFlow) => number,
  end: (f: WireFlow) => number,
  buf: (b: WireBatch) => Buffer,
): Buffer => {
  let total = 0;
  for (const f of rows) total += end(f) - start(f);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  let from: WireBatch | undefined;
  let s = 0;
  let e = 0;
  for (const f of rows) {
    const fs = start(f);
    if (f.batch === from && fs === e) {
      e = end(f);
      continue;
    }
    if (from !== undefined) at += buf(from).copy(out, at, s, e);
    from = f.batch;
    s = fs;
    e = end(f);
  }
  if (from !== undefined) buf(from).copy(out, at, s, e);
  return out;
};

export const makeWireFlowEncoder = (db: string): RowEncoder<WireFlow> => {
  const base = makeRowEncoder(flows, "legacy", db);
  return {
    spec: flows as unknown as RowEncoder<WireFlow>["spec"],
    insertStatement: base.insertStatement,
    keyStructure: base.keyStructure,
    keyColumns: base.keyColumns,
    keyOf: (f) => f.key,
    storedKeyOf: decimalKey,
    encode: (rows) => ({
      body: spans(
        rows,
        (f) => f.rowStart,
        (f) => f.rowEnd,
        (b) => b.rows,
      ),
      encoded: [...rows],
      rejected: [],
    }),
    encodeKeys: (rows) =>
      spans(
        rows,
        (f) => f.keyAt,
        (f) => f.keyAt + 16,
        (b) => b.keys,
      ),
  };
};
