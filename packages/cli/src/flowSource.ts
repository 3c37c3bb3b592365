// The one flag set every command over past traffic takes (replay, backtest, policy what-if):
// `--input FILE.jsonl` (raw flows, enriched first by the enricher's own transform with
// `--manifests`, or enriched flows), `--from T --to T [--bus nats|kafka]` (the enriched topic
// over a time window) or `--clickhouse --from T --to T [--where SQL]` (the sink's netpulse.flows).
// Either way the result is what the detector consumes live: enriched flow batches as bus
// messages, in event-time order. Nothing is ever published. `--skip-bad` counts bad lines/rows
// instead of stopping; a window that finds nothing, or starts before what the topic holds, says
// so on stderr.
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import { ClickHouse, clickHouseConfig, type ClickHouseError } from "@netpulse/clickhouse";
import type { BusError, BusMessage } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { CodecError } from "@netpulse/runtime/codec/CodecError";
import { isEnrichedFlowJson, parseEnrichedFlowJson, parseRawFlowJson } from "@netpulse/runtime/codec/json";
import { jsonlBatches, readLines, type InputError } from "@netpulse/runtime/stage/jsonlSource";
import { publishedTo } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import { offlineEnricher } from "@netpulse/enricher";
import { openBus } from "./cliBus.js";
import { clickhouseFlows } from "./source/clickhouseSource.js";
import { describeSpan, earliestOf, isoTime, topicSpan } from "./source/topicSpan.js";
import { UsageError } from "./UsageError.js";

export interface SourceOptions {
  readonly input?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly bus?: string | undefined;
  /** Read the window from ClickHouse `netpulse.flows` instead of the topic. */
  readonly clickhouse?: boolean | undefined;
  /** Extra SQL condition on `netpulse.flows` (the user's own SQL; only with `clickhouse`). */
  readonly where?: string | undefined;
  /** Count and skip malformed lines/rows instead of stopping at the first. */
  readonly skipBad?: boolean | undefined;
  readonly manifests: ReadonlyArray<string>;
}

/** The time window of a topic or ClickHouse source (ms since the epoch). */
export interface SourceWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Lines/rows skipped with `--skip-bad`, and the first one's reason. */
export interface SkippedInput {
  readonly count: number;
  readonly first: string | undefined;
}

export interface Source {
  readonly stream: Stream.Stream<BusMessage, SourceError>;
  /** Known for --from/--to sources (progress shows the position in it); undefined for files. */
  readonly window: SourceWindow | undefined;
  /** So far; final once the stream ended. */
  readonly skipped: () => SkippedInput;
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

export type SourceError = UsageError | InputError | BusError | CodecError | ClickHouseError;

const notice = (text: string) => Effect.sync(() => process.stderr.write(`${text}\n`));

class Skipped {
  count = 0;
  first: string | undefined;
  readonly add = (reason: string) =>
    Effect.sync(() => {
      this.count++;
      this.first ??= reason;
    });
  readonly snapshot = (): SkippedInput => ({ count: this.count, first: this.first });
}

/** Says "no flows between A and B ..." on stderr when the stream ends without a message. */
const sayWhenEmpty = <E>(
  stream: Stream.Stream<BusMessage, E>,
  w: SourceWindow,
  where: string,
  more: Effect.Effect<string, E> = Effect.succeed(""),
): Stream.Stream<BusMessage, E> => {
  let seen = false;
  return stream.pipe(
    Stream.tap(() => Effect.sync(() => (seen = true))),
    Stream.concat(
      Stream.execute(
        Effect.suspend(() =>
          seen
            ? Effect.void
            : Effect.flatMap(more, (extra) =>
                notice(`no flows between ${isoTime(w.fromMs)} and ${isoTime(w.toMs)} in ${where}${extra}`),
              ),
        ),
      ),
    ),
  );
};

const fileSource = (o: SourceOptions & { readonly input: string }, skipped: Skipped) =>
  Effect.gen(function* () {
    const first =
      o.input === "-"
        ? Option.none<string>()
        : yield* readLines(o.input, `--input ${o.input}`).pipe(
            Stream.filter((l) => l.trim() !== ""),
            Stream.runHead,
            Effect.mapError((e) => new UsageError({ message: e.message })),
          );
    const enriched = Option.match(first, { onNone: () => o.manifests.length === 0, onSome: isEnrichedFlowJson });
    const lines = readLines(o.input, `--input ${o.input}`);
    const onBadLine = o.skipBad === true ? { onBadLine: (e: CodecError) => skipped.add(e.message) } : {};
    if (enriched)
      return jsonlBatches(
        lines,
        o.input,
        { codec: EnrichedFlowCodec, parse: parseEnrichedFlowJson, eventNs: (f) => f.end_ns },
        { topic: Topics.flowsEnriched, ...onBadLine },
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
      { topic: Topics.flowsRaw, ...onBadLine },
    );
    return raw.pipe(enrich, publishedTo(Topics.flowsEnriched));
  });

const windowOf = (o: SourceOptions, nowMs: number) =>
  Effect.gen(function* () {
    const from = o.from === undefined ? undefined : parseTime(o.from, nowMs);
    if (from === undefined)
      return yield* new UsageError({ message: `--from: "${o.from ?? ""}" is not RFC 3339, now, or -N{s,m,h,d}` });
    const to = o.to === undefined ? nowMs : parseTime(o.to, nowMs);
    if (to === undefined)
      return yield* new UsageError({ message: `--to: "${o.to}" is not RFC 3339, now, or -N{s,m,h,d}` });
    if (to <= from) return yield* new UsageError({ message: `--to must be after --from` });
    return { fromMs: from, toMs: to } satisfies SourceWindow;
  });

const topicSource = (o: SourceOptions, w: SourceWindow, nowMs: number) =>
  Effect.gen(function* () {
    const bus = yield* openBus(o.bus);
    const topic = Topics.flowsEnriched;
    const earliest = yield* earliestOf(bus, topic);
    // a window partly before the oldest message (one wholly before it says so when it finds nothing)
    if (earliest !== undefined && w.fromMs < earliest && w.toMs >= earliest) {
      const span = yield* topicSpan(bus, topic, nowMs);
      yield* notice(`--from ${isoTime(w.fromMs)} is before the oldest message: ${describeSpan(topic, span)}`);
    }
    const stream = bus.replay(topic, { _tag: "Time", fromMs: w.fromMs, toMs: w.toMs });
    return sayWhenEmpty(
      stream,
      w,
      topic,
      Effect.map(topicSpan(bus, topic, nowMs), (span) => ` (${describeSpan(topic, span)})`),
    );
  });

const clickhouseSource = (o: SourceOptions, w: SourceWindow, skipped: Skipped) =>
  Effect.gen(function* () {
    const settings = yield* clickHouseConfig;
    const ctx = yield* Layer.build(ClickHouse.layerWith(settings));
    const ch = Context.get(ctx, ClickHouse);
    const stream = clickhouseFlows(ch, {
      ...w,
      where: o.where,
      ...(o.skipBad === true && { onBadRow: skipped.add }),
    });
    return sayWhenEmpty(stream, w, `${ch.database}.flows${o.where === undefined ? "" : ` where ${o.where}`}`);
  });

/** The chosen source, its window and its skipped-input count (the scope keeps connections open). */
export const sourceOf = (o: SourceOptions, nowMs: number) =>
  Effect.gen(function* () {
    if (o.input !== undefined && (o.from !== undefined || o.clickhouse === true))
      return yield* new UsageError({ message: "--input and --from/--clickhouse: choose one source" });
    if (o.where !== undefined && o.clickhouse !== true)
      return yield* new UsageError({ message: "--where goes with --clickhouse" });
    const skipped = new Skipped();
    const done = (stream: Stream.Stream<BusMessage, SourceError>, window: SourceWindow | undefined): Source => ({
      stream,
      window,
      skipped: skipped.snapshot,
    });
    if (o.input !== undefined) return done(yield* fileSource({ ...o, input: o.input }, skipped), undefined);
    if (o.clickhouse === true) {
      if (o.from === undefined) return yield* new UsageError({ message: "--clickhouse needs --from T [--to T]" });
      const w = yield* windowOf(o, nowMs);
      return done(yield* clickhouseSource(o, w, skipped), w);
    }
    if (o.from !== undefined) {
      const w = yield* windowOf(o, nowMs);
      return done(yield* topicSource(o, w, nowMs), w);
    }
    return yield* new UsageError({
      message: "a source is required: --input FILE.jsonl, --from T [--to T], or --clickhouse --from T [--to T]",
    });
  });

/** Enriched flow batches from the chosen source (the scope keeps the bus connection open). */
export const enrichedSource = (o: SourceOptions, nowMs: number) => Effect.map(sourceOf(o, nowMs), (s) => s.stream);
