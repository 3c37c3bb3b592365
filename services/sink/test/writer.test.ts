// TableWriter against the real server: exactly-once inserts, in-batch repeats, re-sent batches,
// and rows the server refuses (bisected out, the rest inserted); on the codec path (RowBinary) and
// on the legacy wire path (Avro transcoded to Native blocks).
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import { makeRowEncoder } from "../src/rows/RowEncoder.js";
import { migrate } from "../src/schema/Migrator.js";
import { flows } from "../src/schema/tables.js";
import { writeBatch } from "../src/write/TableWriter.js";
import { FLOW_COLUMNS } from "../src/rows/FlowTranscoder.js";
import { encodeFlows } from "../src/rows/FlowRowBinary.js";
import { transcodeBatch } from "../src/rows/WireFlow.js";
import { makeWireFlowEncoder } from "../src/rows/WireFlowEncoder.js";
import { insertNames } from "../src/schema/columns.js";
import { clickhouseUrl, count, dropDb, makeFlows, run, testSettings, uniqueDb } from "./fixtures.js";
import { nativeOfRowBinary } from "./nativeOracle.js";

const db = uniqueDb("np_writer");

const write = (rows: ReturnType<typeof makeFlows>) =>
  run(
    db,
    Effect.gen(function* () {
      const state = yield* migrate();
      const enc = makeRowEncoder(flows, state.server.dialect, (yield* ClickHouse).database);
      return yield* writeBatch(enc, rows);
    }),
  );

describe("TableWriter", () => {
  beforeAll(() => dropDb(db));
  afterAll(() => dropDb(db));

  it("inserts a batch once; re-sending it and overlapping batches add nothing", async () => {
    const rows = makeFlows(5000);
    const first = await write(rows);
    expect(first).toMatchObject({ inserted: 5000, duplicates: 0, rejected: [] });
    const again = await write(rows);
    expect(again).toMatchObject({ inserted: 0, duplicates: 5000 });
    const overlap = await write([
      ...rows.slice(4000),
      ...makeFlows(1000, { idBase: 1_000_000n + 5000n, baseNs: rows[4999]!.start_ns + 10_000_000n }),
    ]);
    expect(overlap).toMatchObject({ inserted: 1000, duplicates: 1000 });
    expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(6000);
    expect(await count(db, `SELECT uniqExact(flow_id, start_ns) FROM ${db}.flows`)).toBe(6000);
  });

  it("keeps one row for an identity repeated inside a batch", async () => {
    const rows = makeFlows(10, { idBase: 9_000_000n });
    const r = await write([...rows, ...rows, rows[0]!]);
    expect(r).toMatchObject({ inserted: 10, duplicates: 11 });
    expect(await count(db, `SELECT count() FROM ${db}.flows WHERE flow_id >= 9000000 AND flow_id < 9000010`)).toBe(10);
  });

  it("dead-letters only the rows the server refuses; the rest go in", async () => {
    const rows = makeFlows(1000, { idBase: 7_000_000n });
    const bad = { ...rows[123]!, start_ns: 5n, end_ns: 6n }; // 1970: outside the DateTime range the check allows
    const bad2 = { ...rows[877]!, bytes_sent: -1n };
    const batch = rows.map((r, i) => (i === 123 ? bad : i === 877 ? bad2 : r));
    const r = await write(batch);
    expect(r.inserted).toBe(998);
    expect(r.rejected.map((x) => x.row.flow_id).sort()).toEqual([bad.flow_id, bad2.flow_id].sort());
    expect(r.rejected[0]!.reason).toMatch(/395|throwIf|CHECK|constraint/i);
    expect(await count(db, `SELECT count() FROM ${db}.flows WHERE flow_id >= 7000000 AND flow_id < 7001000`)).toBe(998);
  });
});

describe("TableWriter on the legacy wire path (Native blocks)", () => {
  const wdb = uniqueDb("np_wire");
  beforeAll(() => dropDb(wdb));
  afterAll(() => dropDb(wdb));

  const writeWire = (wire: ReturnType<typeof transcodeBatch> extends Either.Either<infer W, unknown> ? W : never) =>
    run(
      wdb,
      Effect.gen(function* () {
        const state = yield* migrate();
        expect(state.server.dialect).toBe("legacy"); // the wire path exists for the 18.x server
        return yield* writeBatch(makeWireFlowEncoder((yield* ClickHouse).database), wire);
      }),
    );

  /** The stored rows, in flow_id order, as the server writes them in Native. */
  const storedNative = async (): Promise<Buffer> => {
    const s = testSettings(wdb);
    const sql = `SELECT ${insertNames(flows.columns).join(", ")} FROM ${wdb}.flows ORDER BY flow_id FORMAT Native`;
    const auth = Buffer.from(`${s.user}:${process.env["NETPULSE_CLICKHOUSE_PASSWORD"] ?? ""}`).toString("base64");
    const res = await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(sql)}`, {
      headers: { Authorization: `Basic ${auth}` },
    });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  it("stores what the codec path would, once, through re-sent selections and refused rows", async () => {
    const rows = makeFlows(3000, { idBase: 3_000_000n }).map((r, i) =>
      i === 123 ? { ...r, start_ns: 5n, end_ns: 6n } : i === 2500 ? { ...r, bytes_sent: -1n } : r,
    );
    const wire = [0, 1, 2].flatMap((m) =>
      Either.getOrThrow(
        transcodeBatch(
          EnrichedFlowCodec.encodeBatch(rows.slice(m * 1000, (m + 1) * 1000), { producer: "t", sequence: BigInt(m) }),
        ),
      ),
    );
    // two whole messages; the server refuses row 123, so the halves bisection sends are selections
    const first = await writeWire(wire.slice(0, 2000));
    expect(first).toMatchObject({ inserted: 1999, duplicates: 0 });
    expect(first.rejected.map((x) => x.row.i)).toEqual([123]);
    // all three again: 1999 stored, row 123 refused again, and of the new 1000 row 2500 refused
    const second = await writeWire(wire);
    expect(second).toMatchObject({ inserted: 999, duplicates: 1999 });
    expect(second.rejected).toHaveLength(2);
    const kept = rows.filter((_, i) => i !== 123 && i !== 2500);
    const expected = nativeOfRowBinary(FLOW_COLUMNS, encodeFlows(kept, "legacy").body, kept.length);
    expect((await storedNative()).equals(expected)).toBe(true);
  });
});
