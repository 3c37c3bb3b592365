// The ClickHouse HTTP boundary: raw statements in, text or rows out, RowBinary inserts, and
// queries that ship a key list along as an external table. Insert bodies are compressed by the
// caller (gzip level 1, memLevel 9: 18 % less CPU than the default 8 at the same 6.4x on flow
// rows; in zlib's thread pool, so the next batch can be encoded meanwhile) and
// sent with Content-Encoding; the client's own request compression (level 6) cost more CPU than
// the insert itself. Queries with an external table go uncompressed (the 18.x server parses
// the multipart body before decompressing it).
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import { gzip } from "node:zlib";
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from "@clickhouse/client";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Redacted from "effect/Redacted";
import { classify, ClickHouseError } from "./ClickHouseError.js";
import { clickHouseConfig, type ClickHouseSettings, type Compression } from "./ClickHouseConfig.js";

export interface ExternalTable {
  readonly name: string;
  /** e.g. `flow_id Int64, start_ns Int64` */
  readonly structure: string;
  readonly format: "RowBinary" | "TabSeparated";
  readonly body: Buffer;
}

export type { Compression };

export interface QueryOptions {
  /** A table the query can read, sent along in the request body. */
  readonly external?: ExternalTable;
  /** Server-side `{name:Type}` binding (servers from 19.x; 18.x rejects it). */
  readonly params?: Record<string, unknown>;
}

export interface ClickHouseShape {
  readonly url: string;
  readonly database: string;
  /** DDL or any statement whose answer is not needed. */
  readonly command: (sql: string) => Effect.Effect<void, ClickHouseError>;
  /** A statement with its own FORMAT clause; the answer as text. */
  readonly queryText: (sql: string, options?: QueryOptions) => Effect.Effect<string, ClickHouseError>;
  /** `SELECT ...` answered as JSONEachRow objects (64-bit integers arrive as strings on 18.x). */
  readonly queryRows: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, ClickHouseError>;
  /** `INSERT INTO t (cols) FORMAT X` with the encoded rows as the body (already compressed as said). */
  readonly insert: (statement: string, body: Buffer) => Effect.Effect<void, ClickHouseError>;
  /** Compress an insert body as configured, off the event loop (zlib's thread pool). */
  readonly compress: (body: Buffer) => Effect.Effect<Buffer>;
  readonly compression: Compression;
}

/**
 * zlib's output chunk: 1 MiB instead of 16 KiB hands a 2.5 MB compressed batch back in 3 pieces
 * instead of 160 (each a callback into JS and a copy): 52 -> 40 ms of CPU per 50 k-row batch, same bytes.
 */
const GZIP_CHUNK = 1 << 20;

const streamText = async (stream: NodeJS.ReadableStream): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
};

const multipart = (table: ExternalTable, boundary: string): Buffer =>
  Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${table.name}"; filename="${table.name}"\r\n` +
        "Content-Type: application/octet-stream\r\n\r\n",
    ),
    table.body,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);

const makeClient = (s: ClickHouseSettings): ClickHouseClient =>
  createClient({
    url: s.url,
    username: s.user,
    password: s.password === undefined ? "" : Redacted.value(s.password),
    request_timeout: s.requestTimeoutMs,
    compression: { request: false, response: false },
    log: { level: ClickHouseLogLevel.OFF },
    // The 18.x server drops idle keep-alive sockets after 3 s; retire ours before that.
    keep_alive: { enabled: true, idle_socket_ttl: 2_000 },
  });

export const makeClickHouse = (s: ClickHouseSettings) =>
  Effect.gen(function* () {
    const queries = yield* Effect.acquireRelease(
      Effect.sync(() => makeClient(s)),
      (c) => Effect.promise(() => c.close()),
    );

    const queryText = Effect.fn("ClickHouse.queryText")(function* (sql: string, options: QueryOptions = {}) {
      const { external, params } = options;
      return yield* Effect.tryPromise({
        try: async (signal) => {
          if (external === undefined) {
            const r = await queries.exec({
              query: sql,
              abort_signal: signal,
              ...(params !== undefined && { query_params: params }),
            });
            return streamText(r.stream);
          }
          const boundary = `netpulse-${randomUUID()}`;
          const body = multipart(external, boundary);
          const r = await queries.exec({
            query: sql,
            values: Readable.from([body]),
            abort_signal: signal,
            http_headers: {
              "Content-Type": `multipart/form-data; boundary=${boundary}`,
              "Content-Length": String(body.length),
            },
            clickhouse_settings: {
              [`${external.name}_structure`]: external.structure,
              [`${external.name}_format`]: external.format,
            },
          });
          return streamText(r.stream);
        },
        catch: (cause) => classify("query", cause),
      });
    });

    const shape: ClickHouseShape = {
      url: s.url,
      database: s.database,
      command: Effect.fn("ClickHouse.command")(function* (sql: string) {
        yield* Effect.tryPromise({
          try: (signal) => queries.command({ query: sql, abort_signal: signal }),
          catch: (cause) => classify("command", cause),
        });
      }),
      queryText,
      queryRows: Effect.fn("ClickHouse.queryRows")(function* (sql: string) {
        const text = yield* queryText(`${sql}\nFORMAT JSONEachRow`);
        return text
          .split("\n")
          .filter((l) => l.length > 0)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      }),
      compression: s.compression,
      compress: (body: Buffer) =>
        s.compression === "none"
          ? Effect.succeed(body)
          : Effect.async<Buffer>((resume) => {
              gzip(body, { level: 1, memLevel: 9, chunkSize: GZIP_CHUNK }, (err, out) =>
                resume(err === null ? Effect.succeed(out) : Effect.die(err)),
              );
            }),
      insert: Effect.fn("ClickHouse.insert")(function* (statement: string, body: Buffer) {
        yield* Effect.tryPromise({
          try: async (signal) => {
            const r = await queries.exec({
              query: statement,
              values: Readable.from([body]),
              abort_signal: signal,
              http_headers: {
                // A sized body, not chunked: when 18.x refuses an insert it answers without
                // reading the rest of a chunked body, and the leftover bytes broke the next
                // request on that keep-alive socket ("socket hang up"). Sized, it skips them.
                "Content-Length": String(body.length),
                ...(s.compression === "gzip" && { "Content-Encoding": "gzip" }),
              },
            });
            await streamText(r.stream);
          },
          catch: (cause) => classify("insert", cause),
        });
      }),
    };
    return shape;
  });

export class ClickHouse extends Context.Tag("netpulse/ClickHouse")<ClickHouse, ClickHouseShape>() {
  static readonly layer = Layer.scoped(ClickHouse, Effect.flatMap(clickHouseConfig, makeClickHouse));
  static readonly layerWith = (s: ClickHouseSettings) => Layer.scoped(ClickHouse, makeClickHouse(s));
}

export { ClickHouseError };
