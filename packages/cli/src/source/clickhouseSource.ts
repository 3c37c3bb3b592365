// `--clickhouse --from T --to T [--where SQL]`: the sink's `netpulse.flows` over a window of flow
// start times, handed on in end-time order (the capture's, and the detector's event time; see
// endTimeOrder.ts) as the enriched batches the detector consumes live. Read in pages
// (a time slice, and within it at most PAGE_ROWS rows by (start_ns, flow_id)) so a 30-day window
// never sits in memory; the slice adapts to the traffic's density. `--where` is the user's own
// SQL, appended as one more condition: it runs with the user's ClickHouse credentials.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import type { ClickHouseError, ClickHouseShape } from "@netpulse/clickhouse";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { FILE_BATCH_RECORDS, InputError } from "@netpulse/runtime/stage/jsonlSource";
import { Topics } from "@netpulse/runtime/topics";
import { inEndTimeOrder } from "./endTimeOrder.js";
import { FLOW_ROW_SELECT, flowOfRow } from "./flowRow.js";

/** Rows per query: a page is parsed in one piece, so this bounds the memory a page takes. */
export const PAGE_ROWS = 20_000;
const MIN_SLICE_NS = 1_000_000_000n;
const FIRST_SLICE_NS = 60_000_000_000n;
const MAX_SLICE_NS = 6n * 3_600_000_000_000n;

export interface ClickHouseWindow {
  readonly fromMs: number;
  readonly toMs: number;
  readonly where?: string | undefined;
  /** A row that is not a flow: count it and go on (`--skip-bad`); without it the read stops. */
  readonly onBadRow?: (reason: string) => Effect.Effect<void>;
  readonly batchRecords?: number;
  /** Rows per query (default PAGE_ROWS; tests page small). */
  readonly pageRows?: number;
}

interface Cursor {
  /** Current slice [sliceFrom, sliceTo) of start_ns. */
  readonly sliceFrom: bigint;
  readonly sliceNs: bigint;
  /** Last row read in this slice, when the slice takes more than one page. */
  readonly after: { readonly startNs: bigint; readonly flowId: bigint } | undefined;
}

const seconds = (ns: bigint) => ns / 1_000_000_000n;

/** One page's statement. `start` (DateTime, leads the table's ORDER BY) prunes parts; start_ns decides. */
export const pageQuery = (
  table: string,
  c: Cursor,
  toNs: bigint,
  where: string | undefined,
  pageRows: number = PAGE_ROWS,
): string => {
  const sliceTo = c.sliceFrom + c.sliceNs < toNs ? c.sliceFrom + c.sliceNs : toNs;
  const conditions = [
    `start >= toDateTime(${seconds(c.sliceFrom)}) AND start <= toDateTime(${seconds(sliceTo)})`,
    `start_ns >= ${c.sliceFrom} AND start_ns < ${sliceTo}`,
    ...(c.after === undefined
      ? []
      : [`(start_ns > ${c.after.startNs} OR (start_ns = ${c.after.startNs} AND flow_id > ${c.after.flowId}))`]),
    ...(where === undefined || where.trim() === "" ? [] : [`(${where})`]),
  ];
  return (
    `SELECT ${FLOW_ROW_SELECT} FROM ${table} WHERE ${conditions.join(" AND ")} ` +
    `ORDER BY start_ns, flow_id LIMIT ${pageRows}`
  );
};

const int64 = (v: unknown): bigint | undefined =>
  typeof v === "string" || typeof v === "number" ? BigInt(v) : undefined;

const nextCursor = (c: Cursor, rows: ReadonlyArray<Readonly<Record<string, unknown>>>, pageRows: number): Cursor => {
  const last = rows.length >= pageRows ? rows[rows.length - 1] : undefined;
  const startNs = int64(last?.["start_ns"]);
  const flowId = int64(last?.["flow_id"]);
  // a dense slice: the rest of it next (and a narrower slice after it)
  if (startNs !== undefined && flowId !== undefined) return { ...c, after: { startNs, flowId } };
  const sliceTo = c.sliceFrom + c.sliceNs;
  const grow = c.after === undefined && rows.length < pageRows / 4;
  const shrink = c.after !== undefined;
  const sliceNs = grow
    ? c.sliceNs * 2n > MAX_SLICE_NS
      ? MAX_SLICE_NS
      : c.sliceNs * 2n
    : shrink
      ? c.sliceNs / 2n < MIN_SLICE_NS
        ? MIN_SLICE_NS
        : c.sliceNs / 2n
      : c.sliceNs;
  return { sliceFrom: sliceTo, sliceNs, after: undefined };
};

/** The window's flows in (end_ns, flow_id) order, as enriched-flow batches. */
export const clickhouseFlows = (
  ch: ClickHouseShape,
  w: ClickHouseWindow,
): Stream.Stream<BusMessage, ClickHouseError | InputError> => {
  const table = `${ch.database}.flows`;
  const fromNs = BigInt(w.fromMs) * 1_000_000n;
  const toNs = BigInt(w.toMs) * 1_000_000n;
  const pageRows = w.pageRows ?? PAGE_ROWS;
  const page = (c: Cursor) =>
    Effect.gen(function* () {
      const rows = yield* ch.queryRows(pageQuery(table, c, toNs, w.where, pageRows));
      const flows: EnrichedFlow[] = [];
      for (const row of rows) {
        const flow = flowOfRow(row);
        if (Either.isRight(flow)) {
          flows.push(flow.right);
          continue;
        }
        const reason = `${table} row flow_id=${String(row["flow_id"])} start_ns=${String(row["start_ns"])}: ${flow.left}`;
        if (w.onBadRow === undefined) return yield* new InputError({ message: reason });
        yield* w.onBadRow(reason);
      }
      const next = nextCursor(c, rows, pageRows);
      const more = next.after !== undefined || next.sliceFrom < toNs;
      return [Chunk.unsafeFromArray(flows), more ? Option.some(next) : Option.none()] as const;
    });
  let sequence = 0n;
  return Stream.paginateChunkEffect<Cursor, EnrichedFlow, ClickHouseError | InputError, never>(
    { sliceFrom: fromNs, sliceNs: FIRST_SLICE_NS, after: undefined },
    page,
  ).pipe(
    inEndTimeOrder,
    Stream.grouped(w.batchRecords ?? FILE_BATCH_RECORDS),
    Stream.map((chunk) => {
      const flows = Chunk.toReadonlyArray(chunk);
      let newest = 0n;
      for (const f of flows) if (f.end_ns > newest) newest = f.end_ns;
      const first = flows[0];
      return {
        topic: Topics.flowsEnriched,
        key: "",
        value: EnrichedFlowCodec.encodeBatch(flows, {
          producer: `clickhouse:${table}`,
          sequence: sequence++,
          createdNs: newest,
        }),
        partition: 0,
        offset: first === undefined ? "" : `${table}:${first.start_ns}/${first.flow_id}`,
        timestampMs: Number(newest / 1_000_000n),
      } satisfies BusMessage;
    }),
  );
};
