// The replay bench's measured loop: `netpulse replay`'s own code path without the CLI's flag
// parsing and stdout. A source from packages/cli/src/flowSource.ts `sourceOf` (a file, a topic
// window over NATS or Kafka), or batches already in memory, through the detector's per-message
// step (`detectMessage`) with a fresh engine and the built-in rules (replay without --rules or
// --manifests), the anomaly batches decoded as replay decodes them to print. Optionally samples
// the process's memory every `sampleEvery` flows.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Logger from "effect/Logger";
import * as LogLevel from "effect/LogLevel";
import * as Stream from "effect/Stream";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
// A bench, not the service: it measures `netpulse replay`'s own source code, so it reaches into the CLI.
// eslint-disable-next-line no-restricted-imports
import { sourceOf, type SourceOptions } from "../../../packages/cli/src/flowSource.js";
import { detectMessage } from "../src/detectTransform.js";
import { DetectorEngine } from "../src/engine/Engine.js";
import { defaultRules } from "../src/rules/index.js";

export interface MemorySample {
  readonly flows: number;
  readonly rssBytes: number;
  /** The process's peak RSS so far (getrusage maxrss). */
  readonly maxRssBytes: number;
  readonly heapBytes: number;
}

export interface ReplayRun {
  readonly flows: number;
  readonly anomalies: number;
  readonly ms: number;
  readonly perS: number;
  /** From opening the stream to the first message handed on (a bus's connect, seek, group join). */
  readonly firstMs: number;
  readonly samples: ReadonlyArray<MemorySample>;
}

export const memorySample = (flows: number): MemorySample => {
  const m = process.memoryUsage();
  return { flows, rssBytes: m.rss, maxRssBytes: process.resourceUsage().maxRSS * 1024, heapBytes: m.heapUsed };
};

const replayStream = <E>(stream: Stream.Stream<BusMessage, E>, sampleEvery: number) =>
  Effect.suspend(() => {
    const engine = new DetectorEngine();
    const step = detectMessage(engine, () => ({ rules: defaultRules, policies: undefined }), "replay");
    let flows = 0;
    let anomalies = 0;
    let nextSample = sampleEvery;
    let firstMs = NaN;
    // the first sample: the process before the replay's first flow (modules loaded, source open)
    const samples: MemorySample[] = sampleEvery > 0 ? [memorySample(0)] : [];
    const t0 = performance.now();
    return Stream.runForEach(stream, (m) =>
      Effect.sync(() => {
        if (flows === 0) firstMs = performance.now() - t0;
        const out = step(m);
        flows += out.recordsIn;
        for (const p of out.publish)
          for (const a of p.messages) {
            const b = AnomalyCodec.decodeBatch(a.value);
            if (Either.isRight(b)) anomalies += b.right.records.length;
          }
        if (sampleEvery > 0 && flows >= nextSample) {
          samples.push(memorySample(flows));
          nextSample += sampleEvery;
        }
      }),
    ).pipe(
      Effect.map((): ReplayRun => {
        const ms = performance.now() - t0;
        return { flows, anomalies, ms, perS: (flows / ms) * 1000, firstMs, samples };
      }),
    );
  });

/** The detector's own rate: the same step over batches already in memory (no source). */
export const replayInMemory = (messages: ReadonlyArray<BusMessage>): Promise<ReplayRun> =>
  Effect.runPromise(replayStream(Stream.fromIterable(messages), 0));

/** A replay from a source as `netpulse replay` opens it (the bus from NETPULSE_* in process.env). */
export const replaySource = (o: SourceOptions, sampleEvery = 0): Promise<ReplayRun> =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(sourceOf(o, Date.now()), (s) => replayStream(s.stream, sampleEvery))).pipe(
      // as the command: warnings and errors only (not the bus's "connected" line)
      Logger.withMinimumLogLevel(LogLevel.Warning),
    ),
  );
