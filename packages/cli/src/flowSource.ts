// The one flag set every command over past traffic takes (replay, and the backtests to come):
// `--input FILE.jsonl` (raw flows, enriched first by the enricher's own transform with
// `--manifests`, or enriched flows) or `--from T --to T [--bus nats|kafka]` (the enriched topic
// over a time window). Either way the result is what the detector consumes live: enriched flow
// batches as bus messages, in order. Nothing is ever published.
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import { Bus, type BusError, type BusMessage } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import { parseEnrichedFlowJson, parseRawFlowJson } from "@netpulse/runtime/codec/json";
import { jsonlBatches, readLines, type InputError } from "@netpulse/runtime/stage/jsonlSource";
import { publishedTo } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import { offlineEnricher } from "@netpulse/enricher";
import { busLayer } from "./cliBus.js";
import { UsageError } from "./UsageError.js";

export interface SourceOptions {
  readonly input?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly bus?: string | undefined;
  readonly manifests: ReadonlyArray<string>;
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** RFC 3339, `now`, or relative to now (`-2h`, `-30m`, `-7d`): ms since the epoch, or undefined. */
export const parseTime = (text: string, nowMs: number): number | undefined => {
  if (text === "now") return nowMs;
  const rel = /^-(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (rel !== null) return nowMs - Number(rel[1]) * (UNITS[rel[2] as string] as number);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
};

const isEnrichedLine = (line: string): boolean => {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && "src" in v && "dst" in v;
  } catch {
    return false;
  }
};

export type SourceError = UsageError | InputError | BusError | CodecError;

const fileSource = (o: SourceOptions & { readonly input: string }) =>
  Effect.gen(function* () {
    const first =
      o.input === "-"
        ? Option.none<string>()
        : yield* readLines(o.input, `--input ${o.input}`).pipe(
            Stream.filter((l) => l.trim() !== ""),
            Stream.runHead,
            Effect.mapError((e) => new UsageError({ message: e.message })),
          );
    const enriched = Option.match(first, { onNone: () => o.manifests.length === 0, onSome: isEnrichedLine });
    const lines = readLines(o.input, `--input ${o.input}`);
    if (enriched)
      return jsonlBatches(
        lines,
        o.input,
        { codec: EnrichedFlowCodec, parse: parseEnrichedFlowJson, eventNs: (f) => f.end_ns },
        { topic: Topics.flowsEnriched },
      );
    if (o.manifests.length === 0)
      return yield* new UsageError({
        message: `--input ${o.input}: raw flows (no src/dst endpoints) need --manifests to be enriched first`,
      });
    const enrich = yield* offlineEnricher({ manifests: o.manifests }).pipe(
      Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })),
    );
    const raw = jsonlBatches(
      lines,
      o.input,
      { codec: RawFlowCodec, parse: parseRawFlowJson, eventNs: (f) => f.end_ns },
      { topic: Topics.flowsRaw },
    );
    return raw.pipe(enrich, publishedTo(Topics.flowsEnriched));
  });

const topicSource = (o: SourceOptions, nowMs: number) =>
  Effect.gen(function* () {
    const from = o.from === undefined ? undefined : parseTime(o.from, nowMs);
    if (from === undefined)
      return yield* new UsageError({ message: `--from: "${o.from ?? ""}" is not RFC 3339, now, or -N{s,m,h,d}` });
    const to = o.to === undefined ? nowMs : parseTime(o.to, nowMs);
    if (to === undefined)
      return yield* new UsageError({ message: `--to: "${o.to}" is not RFC 3339, now, or -N{s,m,h,d}` });
    if (to <= from) return yield* new UsageError({ message: `--to must be after --from` });
    const ctx = yield* Layer.build(busLayer(o.bus)).pipe(
      Effect.mapError((e) => new UsageError({ message: `bus: ${e instanceof Error ? e.message : JSON.stringify(e)}` })),
    );
    const bus = Context.get(ctx, Bus);
    return bus.replay(Topics.flowsEnriched, { _tag: "Time", fromMs: from, toMs: to });
  });

/** Enriched flow batches from the chosen source (the scope keeps the bus connection open). */
export const enrichedSource = (o: SourceOptions, nowMs: number) =>
  Effect.gen(function* () {
    if (o.input !== undefined && o.from !== undefined)
      return yield* new UsageError({ message: "--input and --from: choose one source" });
    let source: Stream.Stream<BusMessage, SourceError> | undefined;
    if (o.input !== undefined) source = yield* fileSource({ ...o, input: o.input });
    else if (o.from !== undefined) source = yield* topicSource(o, nowMs);
    if (source !== undefined) return source;
    return yield* new UsageError({ message: "a source is required: --input FILE.jsonl, or --from T [--to T]" });
  });
