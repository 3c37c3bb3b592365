// Enriched-publish → anomaly-published latency on real NATS. The detector service runs as its own
// process (its real entry point, all rules on, the bench cluster's manifests); this process
// publishes 1 000-flow batches open loop at a fixed rate, each carrying one flow that opens a new
// rtt_high episode (a fresh workload pair), and notes when it sent each. Afterwards it replays
// netpulse.anomalies and matches rtt_high openings to batches by sample_flow_ids: latency = the
// anomaly message's broker timestamp − the batch's send time (both whole ms of the same clock).
// The nats-server is the bench's own, in a temporary directory: a shared one holds other runs'
// rule versions (the detector adopts the newest), old enriched messages (a new group starts at the
// oldest), and would keep the run's ~0.6 GB of flows for the topic's 7-day retention.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Logger from "effect/Logger";
import * as LogLevel from "effect/LogLevel";
import * as ManagedRuntime from "effect/ManagedRuntime";
import * as Stream from "effect/Stream";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { AnomalyCodec, EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { cpuSeconds } from "../../../bench/e2e/procStats.js";
import { freePort, startNatsServer, stopChild, until } from "../../../test/support/processes.js";
import { BATCH } from "./detectorThroughput.js";
import { RULES_YAML, Traffic } from "./detectorTraffic.js";
import type { PolicyEngine } from "@netpulse/policy";
import { quantile } from "./detectorStats.js";

export interface LatencyOptions {
  readonly batchesPerS: number;
  readonly warmS: number;
  readonly measureS: number;
}

export interface LatencyResult {
  /** Probes not matched within the wait count as infinitely late. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly matched: number;
  readonly probes: number;
  /** Flows per second actually published over the measured window, and the rate asked. */
  readonly publishedPerS: number;
  readonly askedPerS: number;
  /** How late sends left against their schedule (open loop): p99 and max, ms. */
  readonly sendLateP99Ms: number;
  readonly sendLateMaxMs: number;
  /** Publish round trip of the enriched batches (JetStream ack), p50 / p99 ms. */
  readonly publishAckP50Ms: number;
  readonly publishAckP99Ms: number;
  /** CPU of the detector process over the measured window, in cores. */
  readonly detectorCores: number;
  /** Flows per second behind the probes' anomalies, first to last (below the publish rate: a backlog). */
  readonly detectedPerS: number;
  /** Seconds spent starting, encoding, publishing and waiting for the last anomalies. */
  readonly phasesS: Readonly<Record<string, number>>;
}

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PROBE_ID_BASE = 1n << 60n;
const DRAIN_MS = 15_000;
const PARTITIONS = TopicSpecs.flowsEnriched.partitions;

export const measureLatency = async (policies: PolicyEngine, objects: unknown[], o: LatencyOptions) => {
  const phase: Record<string, number> = {};
  let mark = performance.now();
  const done = (name: string) => {
    phase[name] = Math.round(performance.now() - mark) / 1000;
    mark = performance.now();
  };
  const dir = await mkdtemp(join(tmpdir(), "netpulse-detector-bench-"));
  const nats = await startNatsServer(dir);
  let detector: ReturnType<typeof spawn> | undefined;
  const runtime = ManagedRuntime.make(
    NatsBus.layer({ _tag: "nats", url: nats.url, name: "netpulse-bench" }).pipe(
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)), // the bench prints a table, not the bus's info lines
    ),
  );
  try {
    await writeFile(join(dir, "cluster.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    await writeFile(join(dir, "rules.yaml"), RULES_YAML);
    const metricsPort = await freePort();
    let log = "";
    // DETECTOR_BENCH_PROFILE=<dir>: the detector writes a V8 CPU profile there when it stops.
    const profile = process.env["DETECTOR_BENCH_PROFILE"];
    const profiling = profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile}`];
    detector = spawn(process.execPath, [...profiling, "--import", "tsx", "services/detector/src/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NETPULSE_BUS: "nats",
        NETPULSE_NATS_URL: nats.url,
        NETPULSE_METRICS_PORT: String(metricsPort),
        NETPULSE_DETECTOR_GROUP: `detector-bench-${Date.now().toString(36)}`,
        NETPULSE_DETECTOR_RULES: join(dir, "rules.yaml"),
        NETPULSE_DETECTOR_MANIFESTS: join(dir, "cluster.json"),
        NETPULSE_INSTANCE: "bench",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    detector.stderr?.on("data", (d: Buffer) => void (log = (log + d.toString()).slice(-20_000)));
    await until(
      "the detector's /readyz",
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok,
      60_000,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${log}`);
    });

    done("start");
    // Event time follows the wall clock: one cycle of every pair per (pairs / rate) seconds. Every
    // batch is encoded before the first is due (encoding would take ~40 % of a core during the run),
    // so the flows' times are set by how long that takes, estimated on a sample first.
    const rate = o.batchesPerS * BATCH;
    const total = Math.round((o.warmS + o.measureS) * o.batchesPerS);
    const runId = Date.now().toString(36);
    const encodeAll = (t0Ms: number, count: number) => {
      const traffic = new Traffic(policies, 10_000, { t0Ns: BigInt(t0Ms) * 1_000_000n, cycleS: 10_000 / rate });
      return Array.from({ length: count }, (_, j) => {
        const flows = traffic.flows(j * BATCH, BATCH);
        const at = (j * 389) % BATCH;
        flows[at] = traffic.flow(j * BATCH + at, {
          workload: `probe-${runId}-${j}`,
          srttUs: 200_000,
          flowId: PROBE_ID_BASE + BigInt(j),
        });
        return EnrichedFlowCodec.encodeBatch(flows, { producer: "bench/enricher", sequence: BigInt(j) });
      });
    };
    encodeAll(Date.now(), 20); // compiles the code, so the timed sample below is at full speed
    const sampleStart = performance.now();
    encodeAll(Date.now(), 20);
    const leadMs = Math.round(((performance.now() - sampleStart) / 20) * total * 1.3 + 1500);
    const t0Ms = Date.now() + leadMs;
    const batches = encodeAll(t0Ms, total);
    if (Date.now() > t0Ms - 200) throw new Error(`encoding took longer than the ${leadMs.toFixed(0)} ms lead`);
    done("encode");
    const sentMs = new Float64Array(total);
    const lateMs = new Float64Array(total);
    const ackMs = new Float64Array(total);
    const measureFrom = Math.round(o.warmS * o.batchesPerS);
    const cpu = { start: 0, end: 0 };
    const pid = detector.pid ?? 0;

    await runtime.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        const fibers: Array<Fiber.RuntimeFiber<void, unknown>> = [];
        const startPerf = performance.now() + (t0Ms - Date.now());
        for (let j = 0; j < total; j++) {
          const wait = startPerf + (j * 1000) / o.batchesPerS - performance.now();
          if (wait > 0) yield* Effect.sleep(`${wait} millis`);
          if (j === measureFrom) cpu.start = yield* Effect.sync(() => cpuSeconds(pid));
          lateMs[j] = Math.max(0, -wait);
          const sent = performance.now();
          sentMs[j] = Date.now();
          const message = { key: "", value: batches[j]!, partition: j % PARTITIONS };
          fibers.push(
            yield* Effect.fork(
              Effect.map(
                bus.publish(Topics.flowsEnriched, [message]),
                () => void (ackMs[j] = performance.now() - sent),
              ),
            ),
          );
        }
        yield* Fiber.joinAll(fibers);
        cpu.end = yield* Effect.sync(() => cpuSeconds(pid));
      }),
    );
    const measuredMs = sentMs[total - 1]! - sentMs[measureFrom]!;
    done("run");

    // Replay until every probe is matched or DRAIN_MS have passed (a detector that cannot keep up
    // would take as long as its backlog; what is still missing then counts as slower than any).
    const latency = new Map<number, { ms: number; at: number }>();
    const deadline = Date.now() + DRAIN_MS;
    while (latency.size < total - measureFrom && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const messages = await runtime.runPromise(
        Effect.flatMap(Bus, (bus) =>
          Stream.runCollect(bus.replay(Topics.anomalies, { _tag: "Time", fromMs: t0Ms - leadMs })),
        ),
      );
      for (const m of Chunk.toReadonlyArray(messages)) {
        const batch = AnomalyCodec.decodeBatch(m.value);
        if (batch._tag === "Left") continue;
        for (const a of batch.right.records) {
          if (a.kind !== "rtt_high" || a.status !== "open") continue;
          for (const id of a.sample_flow_ids) {
            const j = Number(id - PROBE_ID_BASE);
            if (id >= PROBE_ID_BASE && j >= measureFrom && j < total)
              latency.set(j, { ms: m.timestampMs - sentMs[j]!, at: m.timestampMs });
          }
        }
      }
    }
    done("drain");
    const probes = total - measureFrom;
    const lat = [...latency.values()].map((x) => x.ms);
    const censored = [...lat, ...Array<number>(probes - lat.length).fill(Infinity)];
    const measured = (xs: Float64Array) => Array.from(xs.subarray(measureFrom));
    // Flows per second behind the anomalies, first to last matched probe (the publish rate when
    // the detector keeps up, its own rate when it does not).
    const ordered = [...latency.entries()].sort((a, b) => a[0] - b[0]);
    const first = ordered[0];
    const last = ordered[ordered.length - 1];
    const outPerS =
      first !== undefined && last !== undefined && last[1].at > first[1].at
        ? ((last[0] - first[0]) * BATCH * 1000) / (last[1].at - first[1].at)
        : NaN;
    return {
      p50Ms: quantile(censored, 0.5),
      p90Ms: quantile(censored, 0.9),
      p99Ms: quantile(censored, 0.99),
      maxMs: Math.max(...censored),
      matched: lat.length,
      detectedPerS: outPerS,
      phasesS: phase,
      probes,
      publishedPerS: ((total - 1 - measureFrom) * BATCH * 1000) / measuredMs,
      askedPerS: rate,
      sendLateP99Ms: quantile(measured(lateMs), 0.99),
      sendLateMaxMs: Math.max(...measured(lateMs)),
      publishAckP50Ms: quantile(measured(ackMs), 0.5),
      publishAckP99Ms: quantile(measured(ackMs), 0.99),
      detectorCores: (cpu.end - cpu.start) / (measuredMs / 1000),
    } satisfies LatencyResult;
  } finally {
    await runtime.dispose();
    await stopChild(detector);
    await stopChild(nats.child);
    await rm(dir, { recursive: true, force: true });
  }
};
