// Throughput on one core: the detector's transform (decode + engine.step + encode of anomalies,
// run by runOffline over BusMessages of the enriched topic: the service's code path without a
// broker) against merely decoding the same batches, in interleaved rounds on fresh data of the
// same shape (decode, detect, decode again; then, a diagnostic, engine.step alone on a twin engine
// over the same batches decoded beforehand). The engine is warmed first so every pair's baseline
// is past its warm-up and the verdict caches hold the traffic's conversations.
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { PolicyEngine } from "@netpulse/policy";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import { Topics } from "@netpulse/runtime/topics";
import { defaults } from "../src/config.js";
import { detectTransform } from "../src/detectTransform.js";
import { DetectorEngine, type EngineContext } from "../src/engine/Engine.js";
import type { RuleSet } from "../src/rules/RuleSet.js";
import type { Traffic } from "./detectorTraffic.js";
import { gc, median } from "./detectorStats.js";

export const BATCH = 1000;
/** Decoding is ~5× faster than detecting: it runs this many passes so its timing is not tiny. */
const DECODE_PASSES = 2;

export interface ThroughputOptions {
  readonly rounds: number;
  readonly batchesPerRound: number;
  /** Flow windows per pair fed before measuring (baselines learn from 20 by default). */
  readonly warmCycles: number;
}

export interface Round {
  readonly decodeBefore: number;
  readonly detect: number;
  readonly decodeAfter: number;
  /** A diagnostic: engine.step alone over the round's batches decoded beforehand (a twin engine). */
  readonly stepOnly: number;
  /** CPU seconds of the process per wall second while detecting (≈ 1: one core, plus GC threads). */
  readonly detectCpu: number;
  readonly anomalies: number;
}

export interface ThroughputResult {
  readonly rounds: ReadonlyArray<Round>;
  readonly decodePerS: number;
  readonly detectPerS: number;
  readonly stepOnlyPerS: number;
  /** Per round: detect / mean of its two decodes. */
  readonly ratios: ReadonlyArray<number>;
  /** A/A: decode before / decode after in each round; detect of a round / of the previous one. */
  readonly aaDecode: ReadonlyArray<number>;
  readonly aaDetect: ReadonlyArray<number>;
  /** Anomaly records of the measured rounds by kind, and of the warm-up (policy kinds open there). */
  readonly anomaliesByKind: Readonly<Record<string, number>>;
  readonly warmAnomaliesByKind: Readonly<Record<string, number>>;
  readonly bytesPerFlow: number;
  readonly engine: ReturnType<DetectorEngine["stats"]>;
}

const messagesOf = (traffic: Traffic, firstFlow: number, batches: number, sequence: number): BusMessage[] =>
  Array.from({ length: batches }, (_, b) => ({
    topic: Topics.flowsEnriched,
    key: "",
    value: EnrichedFlowCodec.encodeBatch(traffic.flows(firstFlow + b * BATCH, BATCH), {
      producer: "bench/enricher",
      sequence: BigInt(sequence + b),
    }),
    partition: 0,
    offset: String(sequence + b),
    timestampMs: 0,
  }));

/** Flows per second of decoding every batch `DECODE_PASSES` times. */
const decodeRate = (messages: ReadonlyArray<BusMessage>): number => {
  gc();
  let n = 0;
  const t0 = performance.now();
  for (let pass = 0; pass < DECODE_PASSES; pass++)
    for (const m of messages) {
      const r = EnrichedFlowCodec.decodeBatch(m.value);
      if (r._tag === "Right") n += r.right.records.length;
    }
  return (n / (performance.now() - t0)) * 1000;
};

export const measureThroughput = async (
  traffic: Traffic,
  rules: RuleSet,
  policies: PolicyEngine,
  o: ThroughputOptions,
): Promise<ThroughputResult> => {
  const engine = new DetectorEngine({ maxPairs: defaults.maxPairs });
  const context: EngineContext = { rules, policies };
  const byKind: Record<string, number> = {};
  const transform = detectTransform(engine, () => context, "bench", {
    onAnomalies: (as) => {
      for (const a of as) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    },
  });
  let out = 0;
  const detect = (messages: ReadonlyArray<BusMessage>) =>
    Effect.runPromise(
      runOffline(Stream.fromIterable(messages), transform, (o) => Effect.sync(() => void (out += o.recordsOut))),
    );

  // The twin sees the same flows through engine.step only, so its state matches the transform's.
  const twin = new DetectorEngine({ maxPairs: defaults.maxPairs });
  const decoded = (messages: ReadonlyArray<BusMessage>) =>
    messages.map((m) => {
      const r = EnrichedFlowCodec.decodeBatch(m.value);
      return r._tag === "Right" ? r.right.records : [];
    });
  const stepRate = (batches: ReadonlyArray<ReadonlyArray<EnrichedFlow>>): number => {
    gc();
    let n = 0;
    const t0 = performance.now();
    for (const flows of batches) {
      twin.step({ _tag: "Flows", flows }, context);
      n += flows.length;
    }
    return (n / (performance.now() - t0)) * 1000;
  };
  const pairs = traffic.pairs.length;
  let next = 0;
  let sequence = 0;
  const take = (batches: number): BusMessage[] => {
    const m = messagesOf(traffic, next, batches, sequence);
    next += batches * BATCH;
    sequence += batches;
    return m;
  };
  const warmBatches = Math.ceil((o.warmCycles * pairs) / BATCH);
  for (let done = 0; done < warmBatches; done += 50) {
    const m = take(Math.min(50, warmBatches - done));
    if (done === 0) decodeRate(m);
    await detect(m);
    stepRate(decoded(m));
  }
  const warmAnomaliesByKind = { ...byKind };
  for (const k of Object.keys(byKind)) delete byKind[k];

  const rounds: Round[] = [];
  let bytes = 0;
  let flows = 0;
  for (let r = 0; r < o.rounds; r++) {
    const m = take(o.batchesPerRound);
    for (const x of m) bytes += x.value.length;
    flows += m.length * BATCH;
    const decodeBefore = decodeRate(m);
    gc();
    const before = out;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await detect(m);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const decodeAfter = decodeRate(m);
    const stepOnly = stepRate(decoded(m));
    rounds.push({
      decodeBefore,
      detect: ((m.length * BATCH) / ms) * 1000,
      decodeAfter,
      stepOnly,
      detectCpu: (cpu.user + cpu.system) / 1000 / ms,
      anomalies: out - before,
    });
  }
  const ratios = rounds.map((x) => x.detect / ((x.decodeBefore + x.decodeAfter) / 2));
  return {
    rounds,
    decodePerS: median(rounds.flatMap((x) => [x.decodeBefore, x.decodeAfter])),
    detectPerS: median(rounds.map((x) => x.detect)),
    stepOnlyPerS: median(rounds.map((x) => x.stepOnly)),
    ratios,
    aaDecode: rounds.map((x) => x.decodeBefore / x.decodeAfter),
    aaDetect: rounds.slice(1).map((x, i) => x.detect / rounds[i]!.detect),
    anomaliesByKind: byKind,
    warmAnomaliesByKind,
    bytesPerFlow: bytes / flows,
    engine: engine.stats(),
  };
};
