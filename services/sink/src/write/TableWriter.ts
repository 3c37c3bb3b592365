// Idempotent insert of one batch into one table — the heart of "no duplicates, ever":
//   1. drop repeats of an identity inside the batch;
//   2. ask the server which identities it already stores (keys shipped as an external table,
//      the look-up pruned to the batch's seconds through the ORDER BY prefix);
//   3. insert only the rest, as one RowBinary block (one insert = one part per partition).
// A retry after any failure (timeout, crash, server restart mid-insert) re-runs steps 2–3, so
// whatever part of an earlier attempt landed is skipped, not doubled. A batch the server rejects
// as data is bisected down to the offending rows, which come back as `rejected`.
// The CPU half (de-dup, encode, compress: `prepareBatch`) needs no server state, so the next
// batch can be prepared while this one commits; `commitBatch` (2–3) runs strictly one at a time.
import * as Effect from "effect/Effect";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import type { ClickHouseError } from "@netpulse/clickhouse/ClickHouseError";
import type { Rejected, RowEncoder } from "../rows/RowEncoder.js";

export interface WriteResult<R> {
  readonly inserted: number;
  /** Rows whose identity was already stored, or repeated inside the batch. */
  readonly duplicates: number;
  readonly rejected: ReadonlyArray<Rejected<R>>;
}

export interface Prepared<R> {
  readonly enc: RowEncoder<R>;
  /** One row per identity, in arrival order. */
  readonly unique: ReadonlyArray<R>;
  readonly repeats: number;
  /** `unique` minus rows that cannot be encoded, and their (possibly compressed) RowBinary. */
  readonly encoded: ReadonlyArray<R>;
  readonly body: Buffer;
  readonly clientRejected: ReadonlyArray<Rejected<R>>;
}

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

/** TabSeparated escaping of an identity, to compare with what the server sends back. */
const tsvKey = (k: string): string => k.replace(/[\t\n\\]/g, (c) => (c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\\\"));

/** De-duplicate and encode (and compress) a batch: pure CPU work, no server state involved. */
export const prepareBatch = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>, keys?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const ch = yield* ClickHouse;
    let unique: R[];
    if (keys === undefined && enc.unique !== undefined) unique = enc.unique(rows);
    else {
      const seen = new Set<string>();
      unique = [];
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as R;
        const k = keys?.[i] ?? enc.keyOf(r);
        if (!seen.has(k)) {
          seen.add(k);
          unique.push(r);
        }
      }
    }
    const { body, encoded, rejected } = enc.encode(unique);
    const prepared: Prepared<R> = {
      enc,
      unique,
      repeats: rows.length - unique.length,
      encoded,
      body: yield* ch.compress(body),
      clientRejected: rejected,
    };
    return prepared;
  });

const insertRows = <R>(
  enc: RowEncoder<R>,
  rows: ReadonlyArray<R>,
  ready?: {
    readonly encoded: ReadonlyArray<R>;
    readonly body: Buffer;
    readonly clientRejected: ReadonlyArray<Rejected<R>>;
  },
): Effect.Effect<WriteResult<R>, ClickHouseError, ClickHouse> =>
  Effect.gen(function* () {
    if (rows.length === 0) return { inserted: 0, duplicates: 0, rejected: [] };
    const ch = yield* ClickHouse;
    const stored = yield* storedKeys(enc, rows);
    let batch = ready;
    let duplicates = 0;
    if (batch === undefined || stored.size > 0) {
      const printed = enc.storedKeyOf ?? enc.keyOf;
      const fresh = stored.size === 0 ? rows : rows.filter((r) => !stored.has(tsvKey(printed(r))));
      duplicates = rows.length - fresh.length;
      const e = enc.encode(fresh);
      batch = { encoded: e.encoded, body: yield* ch.compress(e.body), clientRejected: e.rejected };
    }
    const base: WriteResult<R> = { inserted: 0, duplicates, rejected: batch.clientRejected };
    const { encoded } = batch;
    if (encoded.length === 0) return base;
    const outcome = yield* ch.insert(enc.insertStatement, batch.body).pipe(Effect.either);
    if (outcome._tag === "Right") return plus(base, { inserted: encoded.length, duplicates: 0, rejected: [] });
    const err = outcome.left;
    if (err.kind !== "rejected") return yield* Effect.fail(err);
    if (encoded.length === 1)
      return plus(base, { inserted: 0, duplicates: 0, rejected: [{ row: encoded[0] as R, reason: err.message }] });
    // Some row is bad: split until it is alone. Each half re-checks what is stored, so a half
    // that landed before the error (a failing materialized view) is not inserted twice.
    const mid = encoded.length >>> 1;
    const left = yield* insertRows(enc, encoded.slice(0, mid));
    const right = yield* insertRows(enc, encoded.slice(mid));
    return plus(base, plus(left, right));
  });

/** Steps 2–3 for a prepared batch. Fails only when ClickHouse is unwell; safe to retry. */
export const commitBatch = Effect.fn("TableWriter.commitBatch")(function* <R>(p: Prepared<R>) {
  const result = yield* insertRows(p.enc, p.unique, p);
  return { ...result, duplicates: result.duplicates + p.repeats };
});

/** Write one batch exactly once (see the module comment). */
export const writeBatch = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) =>
  Effect.flatMap(prepareBatch(enc, rows), (p) => commitBatch(p));
