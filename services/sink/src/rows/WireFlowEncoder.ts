// The RowEncoder of netpulse.flows for rows transcoded straight from Avro (WireFlow.ts): the
// RowBinary is already made, so encoding is copying; keys are copied from the key buffer.
import { makeRowEncoder, type RowEncoder } from "./RowEncoder.js";
import { flows } from "../schema/tables.js";
import { decimalKey, type WireFlow } from "./WireFlow.js";

export const makeWireFlowEncoder = (db: string): RowEncoder<WireFlow> => {
  const base = makeRowEncoder(flows, "legacy", db);
  return {
    spec: flows as unknown as RowEncoder<WireFlow>["spec"],
    insertStatement: base.insertStatement,
    keyStructure: base.keyStructure,
    keyColumns: base.keyColumns,
    keyOf: (f) => f.key,
    storedKeyOf: decimalKey,
    encode: (rows) => {
      let total = 0;
      for (const f of rows) total += f.rowEnd - f.rowStart;
      const body = Buffer.allocUnsafe(total);
      let at = 0;
      for (const f of rows) at += f.rows.copy(body, at, f.rowStart, f.rowEnd);
      return { body, encoded: [...rows], rejected: [] };
    },
    encodeKeys: (rows) => {
      const body = Buffer.allocUnsafe(rows.length * 16);
      let at = 0;
      for (const f of rows) at += f.keys.copy(body, at, f.keyAt, f.keyAt + 16);
      return body;
    },
  };
};
