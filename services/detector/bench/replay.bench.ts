// Replay benchmark (issue 17): `netpulse replay`'s throughput over 1 M enriched flows from a
// JSON-lines file and from each bus's topic window (Bus.replay on NATS and Kafka), through the
// same code path as the command (flowSource.ts `sourceOf`, the detector's `detectMessage`), next
// to the detector's own rate on the same batches already in memory (goal: each source ≥ 0.8× it,
// the source is not the bottleneck); and the peak RSS of replaying a long topic window (5 M flows
// by default) in a process of its own, sampled as it goes: bounded means flat as the window grows.
// The flows are spread over rounds (1 M / rounds each, fresh engine per replay as the command has);
// each round runs the detector in memory before and after the sources (their A/A spread), the
// sources in alternating order. Brokers: a NATS server and a Kafka broker of the bench's own
// (isolatedServices: own ports and state dir, deleted afterwards), so the shared ones are not filled.
// Writes bench/results/replay.json.
//   scripts/bench.sh replay   (or TSX_TSCONFIG_PATH=tsconfig.eslint.json node --expose-gc --import tsx <this file>)
// REPLAY_BENCH_FLOWS (1000000), REPLAY_BENCH_ROUNDS (4), REPLAY_BENCH_SOURCES (file,nats,kafka),
// REPLAY_BENCH_MEMORY_FLOWS (5000000; 0: no memory part), REPLAY_BENCH_PROFILE=<dir>: also a CPU
// profile of each source's replay in a child process, its top self-time functions printed.
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import type * as Layer from "effect/Layer";
import * as Logger from "effect/Logger";
import * as LogLevel from "effect/LogLevel";
import { Bus, type BusError, type BusMessage } from "@netpulse/runtime/bus/Bus";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
// A bench, not the service: brokers of its own through the sink tests' harness (scripts/services.sh).
// eslint-disable-next-line no-restricted-imports
import { isolatedServices, repoRoot } from "../../sink/test/harness.js";
import { clusterObjects, policyEngineOf } from "./detectorCluster.js";
import { median, range } from "./detectorStats.js";
import { Traffic } from "./detectorTraffic.js";
import { writeResults } from "../../../bench/results.js";
import { selfTime } from "./replayProfile.js";
import { replayInMemory, replaySource, type MemorySample, type ReplayRun } from "./replayRun.js";

const FLOWS = Number(process.env["REPLAY_BENCH_FLOWS"] ?? 1_000_000);
const ROUNDS = Number(process.env["REPLAY_BENCH_ROUNDS"] ?? 4);
const SOURCES = (process.env["REPLAY_BENCH_SOURCES"] ?? "file,nats,kafka").split(",").filter((s) => s !== "");
const MEMORY_FLOWS = Number(process.env["REPLAY_BENCH_MEMORY_FLOWS"] ?? 5_000_000);
const PROFILE = process.env["REPLAY_BENCH_PROFILE"];
const BATCH = 1000;
const PER_ROUND = Math.floor(FLOWS / ROUNDS / BATCH) * BATCH;
const GOAL = 0.8;
const MB = 1024 * 1024;

const traffic = new Traffic(policyEngineOf(clusterObjects()), 10_000);
console.log(
  `replay bench: ${ROUNDS} rounds × ${PER_ROUND} flows per source (${traffic.pairs.length} workload pairs, built-in ` +
    `rules, no manifests), sources ${SOURCES.join(", ")}; load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cpus`,
);

/** Flows [first, first + count) as enriched batches of 1 000, as the enricher publishes them. */
const batchesOf = (first: number, count: number): BusMessage[] =>
  Array.from({ length: Math.ceil(count / BATCH) }, (_, b) => ({
    topic: Topics.flowsEnriched,
    key: "",
    value: EnrichedFlowCodec.encodeBatch(traffic.flows(first + b * BATCH, Math.min(BATCH, count - b * BATCH)), {
      producer: "bench/enricher",
      sequence: BigInt(first / BATCH + b),
    }),
    partition: 0,
    offset: String(first / BATCH + b),
    timestampMs: 0,
  }));

const writeJsonl = async (path: string, first: number, count: number): Promise<void> => {
  const out = createWriteStream(path);
  for (let i = 0; i < count; i += 10_000) {
    const text = traffic
      .flows(first + i, Math.min(10_000, count - i))
      .map((f) => `${toJsonLine(f)}\n`)
      .join("");
    if (!out.write(text)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes flows [first, first + count) in chunks (never all encoded at once); the broker-time window. */
const publish = async (layer: Layer.Layer<Bus, BusError>, first: number, count: number) => {
  let fromMs = 0;
  await Effect.runPromise(
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision(TopicSpecs.flowsEnriched);
      fromMs = Date.now();
      yield* Effect.sleep("5 millis");
      for (let i = 0; i < count; i += 100 * BATCH) {
        const chunk = batchesOf(first + i, Math.min(100 * BATCH, count - i));
        yield* bus.publish(
          Topics.flowsEnriched,
          chunk.map((m) => ({ key: m.key, value: m.value })),
        );
      }
    }).pipe(Effect.provide(layer), Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning)),
  );
  await sleep(5);
  return { fromMs, toMs: Date.now() };
};

const iso = (ms: number) => new Date(ms).toISOString();
const kps = (x: number) => `${(x / 1000).toFixed(0)} k/s`;
const dir = mkdtempSync(join(tmpdir(), "netpulse-replay-bench-"));
const services = await isolatedServices();
const results: Record<string, unknown> = {};
try {
  const t0 = Date.now();
  const buses = SOURCES.filter((s) => s === "nats" || s === "kafka");
  for (const b of buses) services.up(b);
  process.env["NETPULSE_NATS_URL"] = services.natsUrl;
  process.env["NETPULSE_KAFKA_BROKERS"] = services.kafkaBrokers;
  const layers: Record<string, Layer.Layer<Bus, BusError>> = {
    nats: NatsBus.layer({ _tag: "nats", url: services.natsUrl, name: "netpulse-bench" }),
    kafka: KafkaBus.layer({ _tag: "kafka", brokers: [services.kafkaBrokers], clientId: "netpulse-bench" }),
  };

  // every round's flows: a file of its own, a window of its own on each topic
  const windows: Array<Record<string, { fromMs: number; toMs: number }>> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const w: Record<string, { fromMs: number; toMs: number }> = {};
    if (SOURCES.includes("file")) await writeJsonl(join(dir, `round-${r}.jsonl`), r * PER_ROUND, PER_ROUND);
    for (const b of buses) w[b] = await publish(layers[b]!, r * PER_ROUND, PER_ROUND);
    windows.push(w);
  }
  console.log(`set-up (brokers, files, topics): ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const optionsOf = (source: string, r: number) =>
    source === "file"
      ? { input: join(dir, `round-${r}.jsonl`), manifests: [] }
      : { from: iso(windows[r]![source]!.fromMs), to: iso(windows[r]![source]!.toMs), bus: source, manifests: [] };

  type RoundResult = { detectBefore: ReplayRun; detectAfter: ReplayRun; sources: Record<string, ReplayRun> };
  const rounds: RoundResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const messages = batchesOf(r * PER_ROUND, PER_ROUND);
    const detectBefore = await replayInMemory(messages);
    const sources: Record<string, ReplayRun> = {};
    for (const s of r % 2 === 0 ? SOURCES : [...SOURCES].reverse()) {
      sources[s] = await replaySource(optionsOf(s, r));
      if (sources[s].flows !== PER_ROUND)
        console.log(`  ! round ${r} ${s}: ${sources[s].flows} flows, not ${PER_ROUND}`);
      if (sources[s].anomalies !== detectBefore.anomalies)
        console.log(`  ! round ${r} ${s}: ${sources[s].anomalies} anomalies, in memory ${detectBefore.anomalies}`);
    }
    const detectAfter = await replayInMemory(messages);
    rounds.push({ detectBefore, detectAfter, sources });
    console.log(
      `  round ${r}: detector ${kps(detectBefore.perS)} / ${kps(detectAfter.perS)}; ` +
        Object.entries(sources)
          .map(([s, run]) => `${s} ${kps(run.perS)} (first flow after ${run.firstMs.toFixed(0)} ms)`)
          .join(", "),
    );
  }
  const detectorRate = (x: RoundResult) => (x.detectBefore.perS + x.detectAfter.perS) / 2;
  const aa = rounds.map((x) => x.detectAfter.perS / x.detectBefore.perS);
  const table: Record<string, { perS: number; ratio: number; ratios: number[]; met: boolean; firstMs: number }> = {};
  console.log(
    `\nreplay throughput, ${ROUNDS} rounds of ${PER_ROUND} flows (${ROUNDS * PER_ROUND} per source), medians\n` +
      `  ${"source".padEnd(32)}${"flows/s".padStart(10)}   ${"÷ detector (rounds)".padEnd(26)}goal ≥ ${GOAL}\n` +
      `  ${"detector, in memory".padEnd(32)}${kps(median(rounds.map(detectorRate))).padStart(10)}   ` +
      `A/A after/before ${range(aa)}`,
  );
  for (const s of SOURCES) {
    const ratios = rounds.map((x) => x.sources[s]!.perS / detectorRate(x));
    const perS = median(rounds.map((x) => x.sources[s]!.perS));
    const ratio = median(ratios);
    const firstMs = median(rounds.map((x) => x.sources[s]!.firstMs));
    table[s] = { perS, ratio, ratios, met: ratio >= GOAL, firstMs };
    const name = s === "file" ? "file (--input, JSON lines)" : `${s} (--from/--to, Bus.replay)`;
    console.log(
      `  ${name.padEnd(32)}${kps(perS).padStart(10)}   ${`${ratio.toFixed(2)} (${range(ratios)})`.padEnd(26)}` +
        `${(ratio >= GOAL ? "met" : "NOT met").padEnd(9)} first flow after ${firstMs.toFixed(0)} ms`,
    );
  }
  console.log(`  anomaly records per round: ${rounds.map((x) => x.detectBefore.anomalies).join(", ")}`);
  Object.assign(results, { rounds, aa, table });

  // Peak RSS of one long window from NATS, in a fresh process, sampled every 1 M flows.
  if (MEMORY_FLOWS > 0 && buses.includes("nats")) {
    const t1 = Date.now();
    const have = ROUNDS * PER_ROUND;
    const extra = MEMORY_FLOWS > have ? await publish(layers["nats"]!, have, MEMORY_FLOWS - have) : undefined;
    const from = windows[0]!["nats"]!.fromMs;
    const to = extra?.toMs ?? windows[ROUNDS - 1]!["nats"]!.toMs;
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./replayMemory.ts", import.meta.url))],
      {
        cwd: repoRoot,
        encoding: "utf8",
        maxBuffer: 16 * MB,
        env: {
          ...process.env,
          REPLAY_MEMORY: JSON.stringify({ from: iso(from), to: iso(to), bus: "nats", sampleEvery: 1_000_000 }),
        },
      },
    );
    if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
    const run = JSON.parse(child.stdout.trim().split("\n").pop()!) as ReplayRun;
    const s = run.samples;
    // growth from the first million flows on (the sample at 0 is the process before replaying)
    const first = s.find((m) => m.flows > 0);
    const grows = first === undefined ? NaN : (s[s.length - 1]!.maxRssBytes - first.maxRssBytes) / MB;
    console.log(
      `\nmemory: one replay of a ${run.flows}-flow NATS window in a process of its own ` +
        `(${kps(run.perS)}, ${((Date.now() - t1) / 1000).toFixed(0)} s with publishing)\n` +
        s
          .map(
            (m: MemorySample) =>
              `  at ${(m.flows / 1e6).toFixed(0)} M flows: RSS ${(m.rssBytes / MB).toFixed(0)} MB, ` +
              `peak so far ${(m.maxRssBytes / MB).toFixed(0)} MB, heap ${(m.heapBytes / MB).toFixed(0)} MB`,
          )
          .join("\n") +
        `\n  peak grew ${grows.toFixed(0)} MB from 1 M flows to ${(run.flows / 1e6).toFixed(0)} M (bounded if it does not grow ` +
        `with the window)`,
    );
    results["memory"] = { run, peakGrowthMB: grows };
  }

  // A CPU profile of each source's round-0 replay, in a process of its own (its start-up included).
  if (PROFILE !== undefined) {
    mkdirSync(PROFILE, { recursive: true });
    const profiles: Record<string, unknown> = {};
    for (const s of SOURCES) {
      const before = new Set(readdirSync(PROFILE));
      const child = spawnSync(
        process.execPath,
        [
          "--cpu-prof",
          "--cpu-prof-dir",
          PROFILE,
          "--import",
          "tsx",
          fileURLToPath(new URL("./replayMemory.ts", import.meta.url)),
        ],
        {
          cwd: repoRoot,
          encoding: "utf8",
          maxBuffer: 16 * MB,
          env: { ...process.env, REPLAY_MEMORY: JSON.stringify({ ...optionsOf(s, 0), sampleEvery: 0 }) },
        },
      );
      const file = readdirSync(PROFILE).find((f) => !before.has(f) && f.endsWith(".cpuprofile"));
      if (child.status !== 0 || file === undefined) throw new Error(`profile child failed: ${child.stderr}`);
      const top = selfTime(join(PROFILE, file));
      const pct = (xs: ReadonlyArray<{ name: string; share: number }>) =>
        xs.map((t) => `  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`).join("\n");
      console.log(
        `\nprofile of a ${s} replay (${join(PROFILE, file)}), self time by module:\n${pct(top.modules)}\n` +
          ` by function:\n${pct(top.functions)}`,
      );
      profiles[s] = { file: join(PROFILE, file), ...top };
    }
    results["profiles"] = profiles;
  }
} finally {
  services.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
// top-level keys for bench/results/latest.json: each source's median ratio to the in-memory
// detector (goal ≥ 0.8) and rate, and the memory part's peak growth; everything under raw
const table = (results["table"] ?? {}) as Record<string, { perS: number; ratio: number }>;
const memory = results["memory"] as { peakGrowthMB: number } | undefined;
const resultsFile = await writeResults("replay", {
  ...Object.fromEntries(
    Object.entries(table).flatMap(([source, t]) => [
      [`replay_${source}_vs_detector`, t.ratio],
      [`replay_${source}_flows_per_s`, t.perS],
    ]),
  ),
  replay_peak_rss_growth_mb: memory?.peakGrowthMB ?? null,
  raw: results,
});
console.log(`\nwrote ${resultsFile}`);
process.exit(0);
