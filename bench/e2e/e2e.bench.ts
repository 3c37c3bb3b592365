// End-to-end benchmark (issue 19): a synthetic capture (rawInput.ts) → enricher → detector → sink
// → ClickHouse rows, each service its own process through its real entry point
// (test/support/chainProcesses.ts), on NATS and on Kafka. Servers of its own (isolatedServices:
// scripts/services.sh with its own ports and state dir, deleted afterwards): the shared ones are
// not filled, and the brokers' and ClickHouse's CPU is this run's alone.
// Per bus, in one run:
//   1. each stage ALONE, draining its input pre-loaded on its topic: N raw flows published, the
//      enricher drains them (its enriched output is then the detector's input), the detector
//      drains those, the sink drains the enriched flows and anomalies into a database;
//   2. the whole chain: N more raw flows published, the three services started together, until
//      ClickHouse holds all N.
// A rate is taken over the steady window of its counter (10 % → 90 % of N: start-up and the tail
// left out): a stage's own counter alone (/metrics, ClickHouse count() for the sink), and rows
// in ClickHouse for the chain. e2e_vs_slowest_stage = chain rate ÷ the slowest stage's alone rate
// (goal ≥ 0.8: the pipeline adds no bottleneck of its own). Core-seconds per million flows: each
// service's utime + stime over its window ÷ the flows in it; the broker's: its CPU while the raw
// flows were published ÷ N plus its CPU in the chain's window ÷ the flows in it; ClickHouse's in
// the chain's window. Peak RSS: VmHWM.
// Writes bench/results/e2e.json.
//   scripts/bench.sh e2e   (E2E_BENCH_FLOWS=1000000, E2E_BENCH_BUSES=nats,kafka)
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import * as Layer from "effect/Layer";
import * as Logger from "effect/Logger";
import * as LogLevel from "effect/LogLevel";
import * as ManagedRuntime from "effect/ManagedRuntime";
import { isolatedServices, type Isolated } from "../../services/sink/test/harness.js";
import { RULES_YAML } from "../../services/detector/bench/detectorTraffic.js";
import { busFromEnv } from "../../test/support/busHarness.js";
import { portVariable, startChainService, waitReady, type ChainService } from "../../test/support/chainProcesses.js";
import { freePort, stopChild, type ServiceProcess } from "../../test/support/processes.js";
import { writeResults } from "../results.js";
import { cpuSeconds, peakRssBytes } from "./procStats.js";
import { RawInput } from "./rawInput.js";
import { metricCounter, metricSum, steadyWindow, watch, type Window } from "./watch.js";

type BusKind = "nats" | "kafka";
const FLOWS = Number(process.env["E2E_BENCH_FLOWS"] ?? 1_000_000);
const BUSES = (process.env["E2E_BENCH_BUSES"] ?? "nats,kafka").split(",").filter((b): b is BusKind => b !== "");
for (const b of BUSES as string[])
  if (b !== "nats" && b !== "kafka") throw new Error(`E2E_BENCH_BUSES: nats|kafka, got ${b}`);
const GOAL = 0.8;
const STAGES = ["enricher", "detector", "sink"] as const;
const MB = 1024 * 1024;
const brokerName = (b: BusKind) => (b === "nats" ? "nats_server" : "kafka_broker");
const kps = (x: number) => `${(x / 1000).toFixed(1)} k/s`;
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const input = new RawInput();
console.log(
  `e2e bench: ${FLOWS} flows per run, buses ${BUSES.join(", ")}; ${input.traffic.pairs.length} workload pairs over ` +
    `${input.objects.length} cluster objects; load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cpus`,
);

const services: Isolated = await isolatedServices();
const manifests = join(services.dir, "cluster.json");
const rulesFile = join(services.dir, "rules.yaml");
writeFileSync(manifests, JSON.stringify({ apiVersion: "v1", kind: "List", items: input.objects }));
writeFileSync(rulesFile, RULES_YAML);

const countRows =
  (database: string, table = "flows", where = "1") =>
  async (): Promise<number> => {
    const r = await fetch(`${services.clickhouseUrl}/?database=${database}`, {
      method: "POST",
      body: `SELECT count() FROM ${table} WHERE ${where} FORMAT TabSeparated`,
    });
    if (!r.ok) throw new Error(await r.text());
    return Number((await r.text()).trim());
  };

interface Running {
  readonly name: ChainService;
  readonly proc: ServiceProcess;
  readonly port: number;
}

const start = async (name: ChainService, busEnv: Record<string, string>, database: string): Promise<Running> => {
  const port = await freePort();
  const env: Record<string, string> = { ...busEnv, [portVariable(name)]: String(port), NETPULSE_INSTANCE: "bench" };
  if (name === "enricher") env["NETPULSE_MANIFESTS"] = manifests;
  if (name === "detector")
    Object.assign(env, { NETPULSE_DETECTOR_MANIFESTS: manifests, NETPULSE_DETECTOR_RULES: rulesFile });
  if (name === "sink")
    Object.assign(env, { NETPULSE_CLICKHOUSE_URL: services.clickhouseUrl, NETPULSE_CLICKHOUSE_DATABASE: database });
  const proc = startChainService(name, env);
  return { name, proc, port };
};

/** The counter that says how many flows a stage has handled: what it published, consumed, or stored. */
/** `first`: the run's flows are ids first + 1 … first + N; rows of other ids (redelivered from an earlier run) are not its progress. */
const counterOf = (r: Running, database: string, first: number) =>
  r.name === "enricher"
    ? metricCounter(r.port, "netpulse_records_total", { stage: "enricher", direction: "out" })
    : r.name === "detector"
      ? metricCounter(r.port, "netpulse_records_total", { stage: "detector", direction: "in" })
      : countRows(database, "flows", `flow_id > ${first}`);

interface StageFigures {
  readonly window: Window | undefined;
  readonly flowsPerS: number | null;
  readonly coreSPerMflow: number | null;
  readonly cores: number | null;
  readonly peakRssMb: number;
  readonly ended: string;
}

const perStage = (w: Window | undefined, cpuName: string, peak: number, ended: string): StageFigures => ({
  window: w,
  flowsPerS: w?.flowsPerS ?? null,
  coreSPerMflow: w === undefined ? null : (w.cpuS[cpuName]! / w.flows) * 1e6,
  cores: w === undefined ? null : w.cpuS[cpuName]! / w.seconds,
  peakRssMb: peak / MB,
  ended,
});

/** Cores other processes (not the window's own: the services, broker, ClickHouse) took in a window. */
const othersCores = (w: Window | undefined): number | null =>
  w === undefined ? null : w.machineCores - Object.values(w.cpuS).reduce((a, b) => a + b, 0) / w.seconds;
/** Other processes' cores in a window above which its rates are not to be trusted. */
const QUIET_CORES = 0.3;

const runs: Record<string, unknown> = {};
const detectorState: Record<string, Record<string, number>> = {};
const results: Record<string, unknown> = {};
try {
  services.up("clickhouse");
  const chPid = services.pid("clickhouse");
  for (const bus of BUSES) {
    console.log(`\n== ${bus} (${elapsed()})`);
    services.up(bus);
    const brokerPid = services.pid(bus);
    const busEnv: Record<string, string> =
      bus === "nats"
        ? { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: services.natsUrl }
        : { NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: services.kafkaBrokers };
    const runtime = ManagedRuntime.make(
      busFromEnv(busEnv).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))),
    );
    try {
      const others: Array<number | null> = [];
      const publish = async (first: number) => {
        const t = performance.now();
        await input.publish(runtime, first, FLOWS);
        const s = (performance.now() - t) / 1000;
        console.log(`  published ${FLOWS} raw flows in ${s.toFixed(1)} s (${kps(FLOWS / s)}) (${elapsed()})`);
      };

      // 1. each stage alone, on the previous stage's output
      await publish(0);
      const alone: Record<string, StageFigures> = {};
      for (const stage of STAGES) {
        const db = `bench_alone_${bus}`;
        const r = await start(stage, busEnv, db);
        try {
          await waitReady(r.proc, r.port);
          const pid = r.proc.child.pid!;
          const w = await watch({
            label: `${bus} ${stage} alone`,
            counters: { [stage]: counterOf(r, db, 0) },
            pids: { [stage]: pid, broker: brokerPid, clickhouse: chPid },
            until: stage,
            target: FLOWS,
          });
          const f = perStage(steadyWindow(w.samples, stage, FLOWS), stage, peakRssBytes(pid), w.ended);
          if (stage === "detector") {
            const m = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text().catch(() => "");
            detectorState[bus] = {
              pairs: metricSum(m, "netpulse_detector_pairs"),
              evictions: metricSum(m, "netpulse_detector_pair_evictions"),
              anomalies: metricSum(m, "netpulse_detector_anomalies_total"),
            };
            console.log(`  detector state: ${JSON.stringify(detectorState[bus])}`);
          }
          alone[stage] = f;
          others.push(othersCores(f.window));
          console.log(
            `  ${stage} alone: ${f.flowsPerS === null ? "no window" : kps(f.flowsPerS)}, ` +
              `${f.coreSPerMflow?.toFixed(1) ?? "–"} core-s per M flows (${f.cores?.toFixed(2) ?? "–"} cores), ` +
              `peak RSS ${f.peakRssMb.toFixed(0)} MB${w.ended === "done" ? "" : ` — ${w.ended.toUpperCase()}`}`,
          );
        } finally {
          await stopChild(r.proc.child, 15_000);
        }
      }

      // 2. the whole chain on N fresh flows (the same consumer groups: each starts where its alone run ended)
      const brokerCpu0 = cpuSeconds(brokerPid);
      const chCpu0 = cpuSeconds(chPid);
      const t0 = performance.now();
      await publish(FLOWS);
      // the broker's share of taking the raw flows in (the capture's publish), before the services start
      const brokerPublishS = cpuSeconds(brokerPid) - brokerCpu0;
      const db = `bench_e2e_${bus}`;
      const chain = await Promise.all(STAGES.map((s) => start(s, busEnv, db)));
      let e2e: StageFigures;
      const inChain: Record<string, StageFigures> = {};
      let ended: string;
      try {
        await Promise.all(chain.map((r) => waitReady(r.proc, r.port)));
        const pids = Object.fromEntries(chain.map((r) => [r.name, r.proc.child.pid!]));
        const w = await watch({
          label: `${bus} e2e`,
          counters: Object.fromEntries(chain.map((r) => [r.name, counterOf(r, db, FLOWS)])),
          pids: { ...pids, broker: brokerPid, clickhouse: chPid },
          // a flow is through the chain once it is a row and the detector has seen it: the detector
          // is a branch beside the sink (both read the enriched topic), and a chain whose detector
          // falls behind does not sustain the rate its sink reaches
          derived: { chain: (c) => Math.min(c["sink"]!, c["detector"]!) },
          until: "chain",
          target: FLOWS,
        });
        ended = w.ended;
        for (const r of chain)
          inChain[r.name] = perStage(
            steadyWindow(w.samples, r.name, FLOWS),
            r.name,
            peakRssBytes(pids[r.name]!),
            ended,
          );
        e2e = perStage(steadyWindow(w.samples, "chain", FLOWS), "sink", NaN, ended);
      } finally {
        await Promise.all(chain.map((r) => stopChild(r.proc.child, 15_000)));
      }
      const wallS = (performance.now() - t0) / 1000;
      // what the chain's processes (services, broker, ClickHouse) used in the chain's window, and the whole machine
      const cw = e2e.window;
      others.push(othersCores(cw));
      const chainCores = cw === undefined ? null : Object.values(cw.cpuS).reduce((a, b) => a + b, 0) / cw.seconds;
      const machineCores = cw?.machineCores ?? null;
      // Per flow: the broker's publish share plus its CPU in the chain's window, ClickHouse's in that
      // window (idle time around the runs, e.g. a JVM's background work while services start, left out);
      // over the whole run, raw publish to the last row, as well (raw)
      const brokerWholeRun = ((cpuSeconds(brokerPid) - brokerCpu0) / FLOWS) * 1e6;
      const chWholeRun = ((cpuSeconds(chPid) - chCpu0) / FLOWS) * 1e6;
      const brokerCore =
        cw === undefined ? brokerWholeRun : (brokerPublishS / FLOWS + cw.cpuS["broker"]! / cw.flows) * 1e6;
      const chCore = cw === undefined ? chWholeRun : (cw.cpuS["clickhouse"]! / cw.flows) * 1e6;
      const anomalies = await countRows(db, "anomalies")().catch(() => NaN);
      // flows of the alone runs that came into the chain's database: a stage stopped with SIGTERM
      // whose last messages its group had not committed hands them to the next process of the group
      const redelivered = await countRows(db, "flows", `flow_id <= ${FLOWS}`)().catch(() => NaN);
      if (redelivered > 0)
        console.log(
          `  ${redelivered} rows of the alone runs' flows came again into the chain's database (redelivered)`,
        );
      const slowest = STAGES.reduce((a, b) =>
        (alone[a]!.flowsPerS ?? Infinity) <= (alone[b]!.flowsPerS ?? Infinity) ? a : b,
      );
      const ratio =
        e2e.flowsPerS === null || alone[slowest]!.flowsPerS === null ? null : e2e.flowsPerS / alone[slowest]!.flowsPerS;
      console.log(
        `  e2e: ${e2e.flowsPerS === null ? "no window" : kps(e2e.flowsPerS)} through the chain (rows in ClickHouse and seen by the detector; ${ended}; ${anomalies} anomaly rows; ` +
          `${wallS.toFixed(0)} s publish to last row); slowest stage alone: ${slowest} ${kps(alone[slowest]!.flowsPerS ?? NaN)}; ` +
          `e2e ÷ slowest ${ratio?.toFixed(2) ?? "–"} (goal ≥ ${GOAL}: ${ratio !== null && ratio >= GOAL ? "met" : "missed"})`,
      );
      console.log(
        `    in that window the chain's processes used ${chainCores?.toFixed(2) ?? "–"} cores, the machine was busy ` +
          `${machineCores?.toFixed(2) ?? "–"} of ${cpus().length} (the rest: other processes)`,
      );
      for (const s of STAGES)
        console.log(
          `    ${s.padEnd(8)} in the chain: ${kps(inChain[s]!.flowsPerS ?? NaN)}, ${inChain[s]!.coreSPerMflow?.toFixed(1) ?? "–"} core-s/M flows, ` +
            `${inChain[s]!.cores?.toFixed(2) ?? "–"} cores, peak RSS ${inChain[s]!.peakRssMb.toFixed(0)} MB`,
        );
      console.log(
        `    ${brokerName(bus)} ${brokerCore.toFixed(1)} core-s/M flows (peak RSS ${(peakRssBytes(brokerPid) / MB).toFixed(0)} MB), ` +
          `clickhouse ${chCore.toFixed(1)} core-s/M flows (peak RSS ${(peakRssBytes(chPid) / MB).toFixed(0)} MB)`,
      );

      results[`e2e_flows_per_s_${bus}`] = e2e.flowsPerS;
      results[`e2e_vs_slowest_stage_${bus}`] = ratio;
      results[`e2e_clickhouse_rows_per_s_${bus}`] = inChain["sink"]!.flowsPerS;
      results[`e2e_chain_cores_${bus}`] = chainCores;
      results[`e2e_machine_busy_cores_${bus}`] = machineCores;
      // other work on the machine in the busiest of this bus's windows (alone and chain)
      const othersMax = Math.max(...others.filter((x): x is number => x !== null));
      results[`e2e_other_processes_cores_max_${bus}`] = Number.isFinite(othersMax) ? othersMax : null;
      if (othersMax > QUIET_CORES)
        console.log(
          `  NOTE: other processes took up to ${othersMax.toFixed(2)} cores in these windows (quiet: ≤ ${QUIET_CORES}): ` +
            `the rates and the e2e ratio are not trustworthy; CPU per flow is less affected`,
        );
      results[`e2e_slowest_stage_${bus}`] = slowest;
      for (const s of STAGES) {
        results[`stage_flows_per_s_${s}_${bus}`] = alone[s]!.flowsPerS;
        results[`core_s_per_mflow_${s}_${bus}`] = alone[s]!.coreSPerMflow;
        results[`core_s_per_mflow_${s}_e2e_${bus}`] = inChain[s]!.coreSPerMflow;
      }
      results[`core_s_per_mflow_${brokerName(bus)}`] = brokerCore;
      results[`core_s_per_mflow_clickhouse_${bus}`] = chCore;
      results[`peak_rss_mb_${brokerName(bus)}`] = peakRssBytes(brokerPid) / MB;
      runs[bus] = {
        alone,
        inChain,
        redelivered,
        wallS,
        anomalies,
        brokerCoreSPerMflow: brokerCore,
        clickhouseCoreSPerMflow: chCore,
        brokerPublishCoreS: brokerPublishS,
        wholeRun: { brokerCoreSPerMflow: brokerWholeRun, clickhouseCoreSPerMflow: chWholeRun },
      };
    } finally {
      await runtime.dispose().catch(() => undefined);
      services.down(bus);
    }
  }
  results["peak_rss_mb_clickhouse"] = peakRssBytes(chPid) / MB;
} finally {
  services.cleanup();
}

// The sizing figures: the dearest of each stage's runs (alone and in the chain, either bus), and
// ClickHouse's.
const worst = (keys: string[]): number | null => {
  const xs = keys.map((key) => results[key]).filter((x): x is number => typeof x === "number");
  return xs.length === 0 ? null : Math.max(...xs);
};
for (const s of STAGES)
  results[`core_s_per_mflow_${s}`] = worst(
    BUSES.flatMap((b) => [`core_s_per_mflow_${s}_${b}`, `core_s_per_mflow_${s}_e2e_${b}`]),
  );
results["core_s_per_mflow_clickhouse"] = worst(BUSES.map((b) => `core_s_per_mflow_clickhouse_${b}`));
for (const s of STAGES) {
  const peaks = Object.values(runs).flatMap((r) => {
    const x = r as { alone: Record<string, StageFigures>; inChain: Record<string, StageFigures> };
    return [x.alone[s]!.peakRssMb, x.inChain[s]!.peakRssMb];
  });
  results[`peak_rss_mb_${s}`] = peaks.length === 0 ? null : Math.max(...peaks);
}
const file = await writeResults("e2e", { flows_per_run: FLOWS, ...results, raw: runs });
console.log(`\ne2e bench done in ${elapsed()}; wrote ${file}`);
