// Brings the database to the schema this code knows, at sink start: reads the server version
// (→ DDL dialect) and the recorded schema version, applies the missing steps in order, and
// refuses to run against a database migrated by newer code.
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import type { ClickHouseError } from "@netpulse/clickhouse/ClickHouseError";
import { sqlType } from "./columns.js";
import { latestVersion, migrations as allMigrations, type Migration } from "./migrations.js";
import { parseServerVersion, type ServerVersion } from "@netpulse/clickhouse/ServerVersion";

export class SchemaError extends Data.TaggedError("SchemaError")<{ readonly message: string }> {}

export interface SchemaState {
  readonly server: ServerVersion;
  readonly from: number;
  readonly to: number;
  readonly applied: ReadonlyArray<number>;
}

export const serverVersion = Effect.fn("Migrator.serverVersion")(function* () {
  const ch = yield* ClickHouse;
  const text = (yield* ch.queryText("SELECT version() FORMAT TabSeparated")).trim();
  const v = parseServerVersion(text);
  if (v === undefined) return yield* new SchemaError({ message: `cannot parse ClickHouse version "${text}"` });
  return v;
});

/** Schema version recorded in the database; 0 when it has never been migrated. */
export const recordedVersion = Effect.fn("Migrator.recordedVersion")(function* () {
  const ch = yield* ClickHouse;
  const db = ch.database;
  const exists = yield* ch.queryText(
    `SELECT count() FROM system.tables WHERE database = '${db}' AND name = 'schema_migrations' FORMAT TabSeparated`,
  );
  if (exists.trim() === "0") return 0;
  const max = yield* ch.queryText(`SELECT max(version) FROM ${db}.schema_migrations FORMAT TabSeparated`);
  return Number(max.trim());
});

/** Apply every step above the recorded version (up to `target`, default: all this code knows). */
export const migrate = Effect.fn("Migrator.migrate")(function* (
  list: ReadonlyArray<Migration> = allMigrations,
  target: number = latestVersion(list),
) {
  const ch = yield* ClickHouse;
  const db = ch.database;
  const server = yield* serverVersion();
  yield* ch.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  yield* ch.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, dialect String, ` +
      "server_version String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version",
  );
  const from = yield* recordedVersion();
  const known = latestVersion(list);
  if (from > known) {
    return yield* new SchemaError({
      message:
        `database ${db} is at schema version ${from}, but this netpulse knows only up to version ${known}; ` +
        "upgrade netpulse (or point it at another database)",
    });
  }
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= from || m.version > target) continue;
    yield* Effect.logInfo(`applying schema migration ${m.version}: ${m.name} (${server.dialect} DDL)`);
    for (const sql of m.statements(server.dialect, db)) yield* ch.command(sql);
    for (const { table, column } of m.addColumns ?? []) {
      const has = yield* ch.queryText(
        `SELECT count() FROM system.columns WHERE database = '${db}' AND table = '${table}' ` +
          `AND name = '${column.name}' FORMAT TabSeparated`,
      );
      if (has.trim() === "0")
        yield* ch.command(
          `ALTER TABLE ${db}.${table} ADD COLUMN ${column.name} ${sqlType(column.type, server.dialect)}`,
        );
    }
    const name = m.name.replace(/'/g, "");
    yield* ch.command(
      `INSERT INTO ${db}.schema_migrations (version, name, dialect, server_version) ` +
        `VALUES (${m.version}, '${name}', '${server.dialect}', '${server.text.replace(/'/g, "")}')`,
    );
    applied.push(m.version);
  }
  const state: SchemaState = { server, from, to: Math.max(from, ...applied), applied };
  return state;
});

export type MigrateError = SchemaError | ClickHouseError;
