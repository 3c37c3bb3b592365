// Idempotent insert of one batch into one table — the heart of "no duplicates, ever":
//   1. drop repeats of an identity inside the batch;
//   2. ask the server which identities it already stores (keys shipped as an external table,
//      the look-up pruned to the batch's seconds through the ORDER BY prefix);
//   3. insert only the rest, as one RowBinary block (one insert = one part per partition).
// A retry after any failure (timeout, crash, server restart mid-insert) re-runs all three steps,
// so whatever part of an earlier attempt landed is skipped, not doubled. A batch the server
// rejects as data is bisected down to the offending rows, which come back as `rejected`.
import { Effect } from "effect";
import { ClickHouse } from "../clickhouse/ClickHouse.js";
import type { ClickHouseError } from "../clickhouse/ClickHouseError.js";
import type { Rejected, RowEncoder } from "../rows/RowEncoder.js";

export interface WriteResult<R> {
  readonly inserted: number;
  /** Rows whose identity was already stored, or repeated inside the batch. */
  readonly duplicates: number;
  readonly rejected: ReadonlyArray<Rejected<R>>;
}

const empty = <R>(): WriteResult<R> => ({ inserted: 0, duplicates: 0, rejected: [] });

const plus = <R>(a: WriteResult<R>, b: WriteResult<R>): WriteResult<R> => ({
  inserted: a.inserted + b.inserted,
  duplicates: a.duplicates + b.duplicates,
  rejected: [...a.rejected, ...b.rejected],
});

/** Identities (as keyOf strings) of `rows` that the table already holds. */
const storedKeys = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) =>
  Effect.gen(function* () {
    const ch = yield* ClickHouse;
    const { spec } = enc;
    const key = spec.key.join(", ");
    const sql =
      `SELECT ${key} FROM ${ch.database}.${spec.name} ` +
      `WHERE ${spec.keyTime.seconds} IN (SELECT DISTINCT toDateTime(intDiv(${spec.keyTime.ns}, 1000000000)) FROM _keys) ` +
      `AND (${key}) IN (SELECT ${key} FROM _keys) FORMAT TabSeparated`;
    const text = yield* ch.queryText(sql, {
      external: { name: "_keys", structure: enc.keyStructure, format: "RowBinary", body: enc.encodeKeys(rows) },
    });
    const found = new Set<string>();
    for (const line of text.split("\n")) if (line.length > 0) found.add(line.split("\t").join("\u0000"));
    return found;
  });

/** Unescape TabSeparated only where identities could need it (String keys with \t \n \\). */
const tsvKey = (k: string): string => k.replace(/[\t\n\\]/g, (c) => (c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\\\"));

const insertNew = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>): Effect.Effect<WriteResult<R>, ClickHouseError, ClickHouse> =>
  Effect.gen(function* () {
    if (rows.length === 0) return empty<R>();
    const ch = yield* ClickHouse;
    const stored = yield* storedKeys(enc, rows);
    const fresh = stored.size === 0 ? rows : rows.filter((r) => !stored.has(tsvKey(enc.keyOf(r))));
    const { body, encoded, rejected } = enc.encode(fresh);
    const base: WriteResult<R> = { inserted: 0, duplicates: rows.length - fresh.length, rejected };
    if (encoded.length === 0) return base;
    const outcome = yield* ch.insert(enc.insertStatement, body).pipe(Effect.either);
    if (outcome._tag === "Right") return plus(base, { inserted: encoded.length, duplicates: 0, rejected: [] });
    const err = outcome.left;
    if (err.kind !== "rejected") return yield* Effect.fail(err);
    if (encoded.length === 1) return plus(base, { inserted: 0, duplicates: 0, rejected: [{ row: encoded[0] as R, reason: err.message }] });
    const mid = encoded.length >>> 1;
    const left = yield* insertNew(enc, encoded.slice(0, mid));
    const right = yield* insertNew(enc, encoded.slice(mid));
    return plus(base, plus(left, right));
  });

/** Write one batch exactly once (see the module comment). Fails only when ClickHouse is unwell. */
export const writeBatch = Effect.fn("TableWriter.writeBatch")(function* <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) {
  const seen = new Set<string>();
  const unique: R[] = [];
  for (const r of rows) {
    const k = enc.keyOf(r);
    if (!seen.has(k)) {
      seen.add(k);
      unique.push(r);
    }
  }
  const result = yield* insertNew(enc, unique);
  return { ...result, duplicates: result.duplicates + (rows.length - unique.length) };
});
