// Schema migrations on the real server: from an empty server, from the previous schema version
// (v1 with data in it), re-running is a no-op, and a database migrated by newer code is refused
// with both versions named.
import * as Effect from "effect/Effect";
import { afterAll, describe, expect, it } from "vitest";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import { makeRowEncoder } from "../services/sink/src/rows/RowEncoder.js";
import { migrate, recordedVersion } from "../services/sink/src/schema/Migrator.js";
import { latestVersion, migrations } from "../services/sink/src/schema/migrations.js";
import { flows } from "../services/sink/src/schema/tables.js";
import { writeBatch } from "../services/sink/src/write/TableWriter.js";
import { count, dropDb, makeFlows, run, uniqueDb } from "../services/sink/test/fixtures.js";

const dbs: string[] = [];
const fresh = (name: string) => {
  const db = uniqueDb(name);
  dbs.push(db);
  return db;
};
const tables = (db: string) =>
  run(
    db,
    Effect.flatMap(ClickHouse, (ch) =>
      ch.queryRows(`SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`),
    ),
  ).then((r) => r.map((x) => x["name"]));

describe("sink schema migrations", () => {
  afterAll(() => Promise.all(dbs.map(dropDb)));

  it("migrates an empty server to the current version, and again changes nothing", async () => {
    const db = fresh("np_mig_empty");
    const first = await run(db, migrate());
    expect(first).toMatchObject({ from: 0, to: latestVersion(), applied: migrations.map((m) => m.version) });
    expect(first.server.dialect).toBe(first.server.major >= 22 ? "modern" : "legacy");
    expect(await tables(db)).toEqual([
      "anomalies",
      "flows",
      "flows_pair_minute",
      "flows_pair_minute_mv",
      "node_stats",
      "schema_migrations",
    ]);
    const second = await run(db, migrate());
    expect(second).toMatchObject({ from: latestVersion(), applied: [] });
    expect(await count(db, `SELECT count() FROM ${db}.schema_migrations`)).toBe(migrations.length);
  });

  it("upgrades a v1 database holding data: data kept, new objects work on new inserts", async () => {
    const db = fresh("np_mig_v1");
    const v1 = await run(db, migrate(migrations, 1));
    expect(v1.to).toBe(1);
    expect(await tables(db)).not.toContain("flows_pair_minute");
    // the anomalies table as released v1 made it, before the episode columns (v3)
    const episodeColumns = ["status", "count", "first_seen_ns", "last_seen_ns", "unit", "pair", "policy_direction"];
    for (const c of episodeColumns)
      await run(
        db,
        Effect.flatMap(ClickHouse, (ch) => ch.command(`ALTER TABLE ${db}.anomalies DROP COLUMN ${c}`)),
      );
    const old = makeFlows(500);
    await run(db, writeBatch(makeRowEncoder(flows, v1.server.dialect, db), old));

    const up = await run(db, migrate());
    expect(up).toMatchObject({ from: 1, to: latestVersion(), applied: [2, 3] });
    expect(
      await count(
        db,
        `SELECT count() FROM system.columns WHERE database = '${db}' AND table = 'anomalies' ` +
          `AND name IN (${episodeColumns.map((c) => `'${c}'`).join(", ")})`,
      ),
    ).toBe(episodeColumns.length);
    expect(await run(db, recordedVersion())).toBe(latestVersion());
    expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(500);
    await run(
      db,
      writeBatch(makeRowEncoder(flows, up.server.dialect, db), [...old, ...makeFlows(300, { idBase: 5_000_000n })]),
    );
    expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(800);
    // the view only sees rows inserted after it existed
    expect(await count(db, `SELECT countMerge(flows) FROM ${db}.flows_pair_minute`)).toBe(300);
  });

  it("refuses a database whose schema is newer than this code, naming both versions", async () => {
    const db = fresh("np_mig_newer");
    await run(db, migrate());
    await run(
      db,
      Effect.flatMap(ClickHouse, (ch) =>
        ch.command(`INSERT INTO ${db}.schema_migrations (version, name) VALUES (99, 'future')`),
      ),
    );
    const err = await run(db, Effect.flip(migrate()));
    expect(err._tag).toBe("SchemaError");
    expect(err.message).toContain("schema version 99");
    expect(err.message).toContain(`only up to version ${latestVersion()}`);
  });
});
