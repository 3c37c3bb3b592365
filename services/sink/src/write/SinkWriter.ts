// The sink's one writer, shared by the bus pipeline and `netpulse sink --input`: migrates the
// schema at start, then writes batches per table exactly once, retrying (with capped exponential
// back-off) for as long as ClickHouse is unavailable. Callers ack their input only after `write`
// returns, so nothing un-acked is ever lost and nothing acked is ever missing.
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import type { Anomaly, EnrichedFlow, Heartbeat } from "@netpulse/runtime/records";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import { ClickHouseError } from "@netpulse/clickhouse/ClickHouseError";
import { encodeFlows } from "../rows/FlowRowBinary.js";
import { makeWireFlowEncoder, type WireFlowEncoder } from "../rows/WireFlowEncoder.js";
import { makeRowEncoder, type RowEncoder } from "../rows/RowEncoder.js";
import { migrate, type SchemaError, type SchemaState } from "../schema/Migrator.js";
import { anomalies, flows, nodeStats } from "../schema/tables.js";
import { commitBatch, prepareBatch, type Prepared, type WriteResult } from "./TableWriter.js";

export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Give up after this many retries (the CLI); the service retries forever. */
  readonly retries?: number;
}

export interface Encoders {
  readonly flows: RowEncoder<EnrichedFlow>;
  /**
   * Flows transcoded from Avro straight to Native columns in the server's dialect (WireFlow.ts):
   * what the bus pipeline writes. `flows` (records → RowBinary) serves records already decoded.
   */
  readonly flowsWire: WireFlowEncoder | undefined;
  readonly anomalies: RowEncoder<Anomaly>;
  readonly nodeStats: RowEncoder<Heartbeat>;
}

export interface SinkWriterShape {
  readonly schema: SchemaState;
  readonly encoders: Encoders;
  /** Resolves once ClickHouse has every row (or refused it as data); retries otherwise. */
  readonly write: <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) => Effect.Effect<WriteResult<R>, ClickHouseError>;
  /**
   * Writes a stream of batches in order; batch n+1 is encoded and compressed while batch n
   * commits (commits themselves stay one at a time, which the exactly-once check relies on).
   */
  readonly writeAll: <A, R>(
    enc: RowEncoder<R>,
    rowsOf: (a: A) => ReadonlyArray<R>,
  ) => <E, Q>(input: Stream.Stream<A, E, Q>) => Stream.Stream<readonly [A, WriteResult<R>], E | ClickHouseError, Q>;
}

const backoff = (p: RetryPolicy) => {
  const capped = Schedule.exponential(`${p.baseMs} millis`, 2).pipe(
    Schedule.either(Schedule.spaced(`${p.maxMs} millis`)),
  );
  return p.retries === undefined ? capped : capped.pipe(Schedule.intersect(Schedule.recurs(p.retries)));
};

/** Retry an effect for as long as ClickHouse is unavailable (or erring), logging each failure. */
export const retrying = <A, E extends ClickHouseError | SchemaError, R>(
  what: string,
  policy: RetryPolicy,
  effect: Effect.Effect<A, E, R>,
  onFailure: (e: E) => Effect.Effect<void> = () => Effect.void,
) =>
  effect.pipe(
    Effect.tapError((e) => Effect.zipRight(Effect.logWarning(`${what} failed, retrying: ${e.message}`), onFailure(e))),
    Effect.retry({ schedule: backoff(policy), while: (e) => e instanceof ClickHouseError }),
  );

export const makeSinkWriter = (policy: RetryPolicy) =>
  Effect.gen(function* () {
    const ch = yield* ClickHouse;
    const metrics = yield* Metrics;
    const up = metrics.gauge("netpulse_sink_clickhouse_up", "1 while the last ClickHouse call succeeded");
    const dups = metrics.counter(
      "netpulse_sink_duplicates_total",
      "Rows skipped because their identity was already stored",
      ["table"],
    );
    const rejected = metrics.counter("netpulse_sink_rejected_total", "Rows ClickHouse refused (sent to the DLQ)", [
      "table",
    ]);
    const inserted = metrics.counter("netpulse_sink_rows_total", "Rows inserted into ClickHouse", ["table"]);
    const latency = metrics.histogram(
      "netpulse_sink_insert_seconds",
      "Time to write one batch",
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ["table"],
    );
    const down = () => Effect.sync(() => up.set(0));

    const schema = yield* retrying("schema migration", policy, migrate(), down);
    up.set(1);
    const { dialect } = schema.server;
    const encoders: Encoders = {
      flows: {
        ...makeRowEncoder(flows, dialect, ch.database),
        encode: (rows) => encodeFlows(rows, dialect),
        keyOf: (r) => `${r.flow_id}\u0000${r.start_ns}`,
      },
      flowsWire: makeWireFlowEncoder(ch.database, dialect),
      anomalies: makeRowEncoder(anomalies, dialect, ch.database),
      nodeStats: makeRowEncoder(nodeStats, dialect, ch.database),
    };

    const prepare = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) =>
      prepareBatch(enc, rows).pipe(Effect.provideService(ClickHouse, ch));

    const commit = <R>(p: Prepared<R>): Effect.Effect<WriteResult<R>, ClickHouseError> =>
      Effect.gen(function* () {
        const table = p.enc.spec.name;
        const started = performance.now();
        const result = yield* retrying(`insert into ${table}`, policy, commitBatch(p), down).pipe(
          Effect.provideService(ClickHouse, ch),
        );
        up.set(1);
        latency.observe({ table }, (performance.now() - started) / 1000);
        inserted.inc({ table }, result.inserted);
        if (result.duplicates > 0) dups.inc({ table }, result.duplicates);
        if (result.rejected.length > 0) rejected.inc({ table }, result.rejected.length);
        return result;
      });

    const write = <R>(enc: RowEncoder<R>, rows: ReadonlyArray<R>) => Effect.flatMap(prepare(enc, rows), commit);

    const writeAll =
      <A, R>(enc: RowEncoder<R>, rowsOf: (a: A) => ReadonlyArray<R>) =>
      <E, Q>(input: Stream.Stream<A, E, Q>) =>
        input.pipe(
          Stream.mapEffect((a) => Effect.map(prepare(enc, rowsOf(a)), (p) => [a, p] as const)),
          Stream.buffer({ capacity: 1 }),
          Stream.mapEffect(([a, p]) => Effect.map(commit(p), (r) => [a, r] as const)),
        );

    const shape: SinkWriterShape = { schema, encoders, write, writeAll };
    return shape;
  });

export class SinkWriter extends Context.Tag("netpulse/SinkWriter")<SinkWriter, SinkWriterShape>() {
  static readonly layer = (policy: RetryPolicy) => Layer.effect(SinkWriter, makeSinkWriter(policy));
}
