// TableWriter against the real server: exactly-once inserts, in-batch repeats, re-sent batches,
// and rows the server refuses (bisected out, the rest inserted).
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouse } from "../src/clickhouse/ClickHouse.js";
import { makeRowEncoder } from "../src/rows/RowEncoder.js";
import { migrate } from "../src/schema/Migrator.js";
import { flows } from "../src/schema/tables.js";
import { writeBatch } from "../src/write/TableWriter.js";
import { count, dropDb, makeFlows, run, uniqueDb } from "./fixtures.js";

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
