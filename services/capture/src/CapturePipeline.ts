// The capture pipeline up to the sink, shared by the service (bus sink) and the CLI (stdout):
// loader chunks → decode → FlowTable windows (close records at once, the rest every active
// timeout) → RawFlow stream. When the loader stops, still-open flows emit their last window.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { RawFlow } from "@netpulse/runtime/records";
import { CaptureStats } from "./CaptureStats.js";
import { decodeRecord } from "./FlowRecordDecoder.js";
import { RECORD_SIZE, RecordKind } from "./FlowRecordLayout.js";
import { FlowTable } from "./FlowTable.js";
import { Loader, type LoaderError, type LoaderOptions } from "./LoaderProcess.js";
import type { Clock } from "./rawFlow.js";
import { wallClockNs } from "@netpulse/runtime/clock";

export interface PipelineSettings {
  readonly node: string;
  readonly activeTimeoutMs: number;
  readonly maxFlows: number;
  readonly loader: LoaderOptions;
}

type Event = { readonly _tag: "chunk"; readonly bytes: Buffer } | { readonly _tag: "tick" };

const monoNowNs = (): number => Number(process.hrtime.bigint());

/** Applies one chunk of whole records; returns the RawFlows completed by close records. */
export const applyChunk = (table: FlowTable, clock: Clock, stats: CaptureStats, bytes: Buffer): RawFlow[] => {
  const out: RawFlow[] = [];
  for (let o = 0; o + RECORD_SIZE <= bytes.length; o += RECORD_SIZE) {
    const r = decodeRecord(bytes, o);
    if (r === undefined) continue;
    if (r.kind === RecordKind.stats) {
      if (clock.fromLoader !== true) {
        clock.offsetNs = r.realNs - r.monoNs;
        clock.fromLoader = true;
      }
      stats.ringbufDrops = r.ringbufDrops;
      stats.mapFull = r.mapFull;
      stats.sampling = r.sampling;
      stats.kernelOpened = r.flowsOpened;
      stats.kernelClosed = r.flowsClosed;
      stats.filteredOut = r.filteredOut;
      stats.sampledOut = r.sampledOut;
      stats.loaderRecords = r.recordsWritten;
      stats.lastStatsNs = r.realNs;
      stats.onStatsRecord?.();
      continue;
    }
    stats.recordsIn++;
    table.apply(r, out);
  }
  stats.tableFull = table.refused;
  stats.flowsTracked = table.size;
  return out;
};

export const capturePipeline = (
  settings: PipelineSettings,
  stats: CaptureStats,
): Stream.Stream<RawFlow, LoaderError, Loader> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const loader = yield* Loader;
      // Until the loader's first stats record: Node's own clocks (same CLOCK_MONOTONIC).
      const clock: Clock = { offsetNs: wallClockNs() - process.hrtime.bigint() };
      const table = new FlowTable({ node: settings.node, maxFlows: settings.maxFlows }, clock);
      const chunks = loader
        .records(settings.loader, (n) => {
          stats.queueDrops += n;
        })
        .pipe(Stream.map((bytes): Event => ({ _tag: "chunk", bytes })));
      const ticks = Stream.tick(`${settings.activeTimeoutMs} millis`).pipe(
        Stream.drop(1),
        Stream.map((): Event => ({ _tag: "tick" })),
      );
      const flows = Stream.merge(chunks, ticks, { haltStrategy: "left" }).pipe(
        Stream.mapConcat((ev) => {
          const out = ev._tag === "chunk" ? applyChunk(table, clock, stats, ev.bytes) : [];
          if (ev._tag === "tick") table.tick(monoNowNs(), out);
          stats.flowsOut += out.length;
          return out;
        }),
      );
      const finalWindows = Stream.suspend(() => {
        const out: RawFlow[] = [];
        table.tick(monoNowNs(), out);
        stats.flowsOut += out.length;
        return Stream.fromChunk(Chunk.unsafeFromArray(out));
      });
      return Stream.concat(flows, finalWindows);
    }),
  );
