// Capture overhead and connection-rate headroom on the real kernel, root only:
//  1. HTTP request latency against a node server in a network namespace (32 keep-alive
//     connections from the other namespace of a veth pair), capture off vs on → ratios; goal
//     ≤ 1.03. "On" is the capture as deployed: its own process (services/capture/dist/main.js:
//     loader + pipeline + windows + metrics + heartbeat) publishing to a nats-server of the
//     bench's own, started before and stopped after each on-run; `CAPTURE=cli` runs `netpulse
//     capture --stdout` into /dev/null instead, `CAPTURE=loader` (a diagnostic) the C loader
//     alone into /dev/null. Every run of either arm carries two loads:
//     - PACED (the request latency overhead, the headline): paced-load.c, built here with cc,
//       sends at a fixed rate, request j due at start + j / rate (open loop, evenly spaced, µs
//       timer), and times every request from its due time, so a stalled request also delays
//       the ones queued behind it (coordinated omission counted); p50, p99 and mean ratios, and
//       the same from the actual send. The rate is PACE (0.15) × the best saturated rate of three
//       undisturbed warm-up runs, fixed for the whole run (RATE=<req/s> overrides): paced
//       requests cost ~3–4× the CPU of saturated ones (each wakes generator, server and softirq
//       from idle instead of riding a batch), so 50 % of the saturated rate already keeps the 2
//       cores ~80 % busy and the latency is queueing again; at 15 % about half the machine is
//       busy and the latency is the per-request service time plus wake-ups, where the hooks'
//       added time shows. The
//       generator runs on CPU 0 and the server on CPU 1 (taskset; PIN=0 leaves both free), so
//       their placement is one variable less; the capture and its nats-server stay unpinned, as
//       deployed, at the scheduling policy the service sets itself (NETPULSE_CAPTURE_SCHED, passed
//       on from this process's environment; printed). Runs of one arm still land at ~85 or
//       ~135 µs p50 (cause not found; both arms alike), which the per-pair ratios and the A/A
//       floor show;
//     - SATURATED (the throughput / CPU overhead at saturation, not a latency figure): wrk -t1
//       -c32 as fast as it goes; on 2 cores this closed loop's latency is concurrency × CPU per
//       request / cores, so its ratio is the capture's total CPU (BPF + user space + nats)
//       seen as queueing delay; printed with throughput and CPU per request ratios.
//     The capture is measured running, as a node's capture is for days: each run (both arms)
//     first carries a COLD paced load of PACED_SECONDS right after the capture started (its first
//     records through decode, windows, Avro and the bus: lazy compilation, the heap growing to
//     its working size; printed as its own ratio), then WARM_SECONDS (8) more of the paced load,
//     unmeasured (two more active-timeout windows, the heap at its working size; the service
//     runs without V8's memory reducer, see services/capture/src/main.ts),
//     and only then the measured paced and saturated loads.
//     Method, for both loads:
//     - runs alternate off,on | on,off | … (ABBA), so drift and start/stop after-effects fall on
//       both sides; before each load (both arms) the bench waits until the capture processes
//       are idle (no start-up work left) and the machine had 500 ms to settle;
//     - kernel.bpf_stats_enabled is 0 during these runs (it adds two clock reads per program run);
//     - the ratio is the median of per-pair ratios (each on-run against its adjacent off-run),
//       printed for the paced load with a distribution-free interval (order statistics of the
//       pair ratios, ≥ 90 % coverage: with 8 pairs the 2nd smallest to the 2nd largest, 93 %);
//       the same on adjacent same-arm runs (off/off, on/on: the A/A noise floor of this run);
//     - the machine is shared: each load's CPU used by processes other than the bench's (load
//       generator, server, capture, its nats-server, this process), plus steal time, is measured
//       from /proc; pairs where that exceeded QUIET_CORES in either run are left out of the
//       headline ratio (all pairs printed too), and so are runs whose CPU per request was more
//       than SLOW above their own arm's median (a host slowed by noisy neighbours shows in no
//       counter here); the A/A line says how much two runs of the same arm still differed;
//     - a paced run that reached less than 98 % of its rate or lost requests is marked BEHIND
//       SCHEDULE (kept in, its latencies say what it cost);
//     - also printed: the best run of each arm (interference only slows runs down), CPU per
//       request (load generator + server, from /proc and getrusage) and how busy the machine was.
//     PAIRS (8), PACED_SECONDS (5), WARM_SECONDS (8), RUN_SECONDS (3, the saturated load), PACE, RATE, PIN, CAPTURE,
//     CAPTURE_NICE (a diagnostic: the capture's processes at that nice level, not as deployed),
//     BUS_SCHED (a diagnostic: the bench's nats-server at idle|batch policy; a deployment's bus is
//     not on the node), CAPTURE_NODE_ARGS (a diagnostic: flags for the capture service's node, e.g.
//     "--single-threaded-gc"). While it measures, this process runs at SCHED_IDLE (see below).
//  2. Kernel-timed BPF cost, in separate runs with kernel.bpf_stats_enabled=1: ns per request
//     per program, as a share of the CPU a (saturated) request costs without capture and of the
//     paced p50 latency without capture.
//  3. New connections per second (wrk with Connection: close) with capture on, at rising
//     concurrency: the rate reached while every connection was captured and nothing dropped.
//   flock /tmp/netpulse-bench.lock node --expose-gc --import tsx services/capture/bench/latency.bench.ts
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import { cpuTicks, processTree } from "../../../bench/e2e/procStats.js";
import { writeResults } from "../../../bench/results.js";
import { NetnsPair, startCapture } from "../../../test/capture-netns.js";
import { startNatsServer, stopChild, until } from "../../../test/support/processes.js";
import { applySchedPolicy, SCHED_POLICIES, type SchedPolicy } from "../src/schedPolicy.js";
import {
  bpfCostOf,
  bpfStatsSetting,
  setBpfStats,
  buildDist,
  startCaptureService,
  progStats,
  startOkServer,
  type ProgStats,
} from "./stage.js";

// V8's memory reducer (full GCs that shrink an idle heap, on helper threads too) is off in this
// process while it measures (see below). V8 takes --no-memory-reducer only on the command line:
// v8.setFlagsFromString leaves the reducer of the existing heap running (--trace-gc still shows
// its "(reduce)" GCs). So without the flag this bench runs itself again with it.
if (!process.execArgv.includes("--no-memory-reducer")) {
  const again = spawnSync(process.execPath, ["--no-memory-reducer", ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(again.status ?? 1);
}

const PAIRS = Number(process.env["PAIRS"] ?? "8");
const SECONDS = Number(process.env["RUN_SECONDS"] ?? "3");
/** Paced load: this share of the saturated rate the warm-up reached, or RATE req/s when set. */
const PACE = Number(process.env["PACE"] ?? "0.15");
const PIN = process.env["PIN"] !== "0";
const PACED_SECONDS = Number(process.env["PACED_SECONDS"] ?? "5");
/** Unmeasured paced load between the cold and the measured runs (see the header). */
const WARM_SECONDS = Number(process.env["WARM_SECONDS"] ?? "8");
const RATE = process.env["RATE"] === undefined ? undefined : Number(process.env["RATE"]);
const loaderBin = fileURLToPath(new URL("../../../bpf/.output/netpulse-loader", import.meta.url));
const pacedLoadSource = fileURLToPath(new URL("./paced-load.c", import.meta.url));
const STATS_RUNS = 2;
const CONNS = 32;
const PORT = 8080;
/** Other processes' CPU + steal (in cores) above which a run counts as disturbed. */
const QUIET_CORES = 0.3;
/** CPU per request above this × its arm's median: the run was slowed from outside. */
const SLOW = 1.1;
const CAPTURE = process.env["CAPTURE"] ?? "service";
/** A diagnostic, not as deployed: run the capture's processes (not its nats-server) at this nice level. */
const CAPTURE_NICE = process.env["CAPTURE_NICE"];
/** A diagnostic: the bench's nats-server (a stand-in for the cluster's bus, which is not on the node in
 * a deployment) at this scheduling policy, `idle` | `batch` | `normal` (the default). */
const BUS_SCHED = process.env["BUS_SCHED"] ?? "normal";
if (!(SCHED_POLICIES as readonly string[]).includes(BUS_SCHED))
  throw new Error(`BUS_SCHED=${SCHED_POLICIES.join("|")}, got ${BUS_SCHED}`);
if (CAPTURE !== "service" && CAPTURE !== "cli" && CAPTURE !== "loader")
  throw new Error(`CAPTURE=service|cli|loader, got ${CAPTURE}`);

const HZ = 100; // USER_HZ: /proc/<pid>/stat and /proc/stat count in 1/100 s

interface WrkResult {
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  requests: number;
  /** CPU seconds wrk used (user + system). */
  cpuS: number;
}

const ms = (v: string, unit: string): number => Number(v) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);

const parseWrk = (out: string): WrkResult => {
  const lat = /Latency\s+([\d.]+)(us|ms|s)/.exec(out);
  const p = (q: string) => {
    const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? ms(m[1] ?? "NaN", m[2] ?? "ms") : NaN;
  };
  // bash `times`: this shell's user/sys, then its children's (wrk's)
  const t = [...out.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return {
    avgMs: lat ? ms(lat[1] ?? "NaN", lat[2] ?? "ms") : NaN,
    p50Ms: p("50"),
    p99Ms: p("99"),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? "NaN"),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? "NaN"),
    cpuS: (t[2] ?? NaN) + (t[3] ?? NaN),
  };
};

const treeTicks = (pids: number[]) => pids.reduce((t, p) => t + cpuTicks(p), 0);

/** Busy, stolen (the hypervisor ran something else) and total ticks of the whole machine. */
const machine = () => {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0) - (f[7] ?? 0), steal: f[7] ?? 0, total };
};
const cores = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const sleep = (msecs: number) => new Promise((r) => setTimeout(r, msecs));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const pair = new NetnsPair();
/** This process runs at SCHED_IDLE while it measures (see below); what it starts runs at normal. */
const atNormal = (args: string[]): string[] => ["chrt", "--other", "0", ...args];
const wrk = async (args: string[]): Promise<WrkResult> =>
  parseWrk(
    await pair.execAsync(pair.client, [
      ...atNormal([]),
      "bash",
      "-c",
      `wrk -t1 -d${SECONDS}s --latency ${args.join(" ")} http://${pair.serverIp}:${PORT}/; times`,
    ]),
  );

interface RunningCapture {
  /** Every process the capture (and its bus) runs as, for CPU accounting. */
  readonly pids: () => number[];
  readonly stop: () => Promise<void>;
}

const devNull = openSync("/dev/null", "w");

/** The capture as deployed: its own process, ready (loader attached) before this resolves. */
const startCaptureProcess = async (natsUrl: string): Promise<RunningCapture> => {
  let child: ChildProcess;
  if (CAPTURE === "service") {
    child = (await startCaptureService({ natsUrl, cidr: pair.cidr })).child;
  } else if (CAPTURE === "loader") {
    // a diagnostic: the kernel side and the C loader alone, records into /dev/null, no Node, no bus
    const [cmd, ...args] = atNormal([loaderBin, "--cidr", pair.cidr]);
    child = spawn(cmd!, args, { stdio: ["ignore", devNull, "pipe"] });
    child.stderr?.resume();
    await until("capture programs attached", () => child.exitCode === null && progStats().length > 0, 30_000);
  } else {
    buildDist(".");
    const cli = ["packages/cli/dist/main.js", "capture", "--stdout", "--cidr", pair.cidr];
    const [cmd, ...args] = atNormal([process.execPath, "--enable-source-maps", ...cli]);
    child = spawn(cmd!, args, { stdio: ["ignore", devNull, "pipe"] });
    // no readiness signal on stdout (it goes to /dev/null): the loader is up once it is a child
    await until("capture loader started", () => processTree(child.pid).length > 1, 30_000);
  }
  if (child.exitCode !== null) throw new Error(`capture exited with ${child.exitCode}`);
  if (CAPTURE_NICE !== undefined) {
    // nice is per thread: every thread of every capture process (threads started later inherit it)
    const tids = processTree(child.pid).flatMap((pid) => readdirSync(`/proc/${pid}/task`));
    execFileSync("renice", ["-n", CAPTURE_NICE, "-p", ...tids], { stdio: "ignore" });
  }
  for (const pid of processTree(child.pid))
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const policy = Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ")[38]);
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      capturePolicies.add(`${comm} ${POLICY_NAMES[policy] ?? `policy ${policy}`}`);
    }
  return { pids: () => processTree(child.pid), stop: () => stopChild(child) };
};
/** Scheduling policies seen on the capture's threads (/proc/<tid>/stat field 41), for the report. */
const POLICY_NAMES: Record<number, string> = { 0: "SCHED_OTHER", 3: "SCHED_BATCH", 5: "SCHED_IDLE" };
const capturePolicies = new Set<string>();

/** At least 500 ms, then until `pids` used at most one tick in 250 ms (start-up work done); 10 s at most. */
const settle = async (pids: () => number[]): Promise<void> => {
  await sleep(500);
  for (let i = 0; i < 40; i++) {
    const a = treeTicks(pids());
    await sleep(250);
    if (treeTicks(pids()) - a <= 1) return;
  }
};

/** One load run: latency in µs, throughput, and the CPU seconds the load generator used. */
interface Load {
  meanUs: number;
  p50Us: number;
  p99Us: number;
  rps: number;
  requests: number;
  cpuS: number;
  /** Paced runs only: the rate asked for, the same latencies from the actual send, and errors. */
  paced?: { target: number; sendMeanUs: number; sendP50Us: number; sendP99Us: number; late: number; errors: number };
}

const fromWrk = (w: WrkResult): Load => ({
  meanUs: w.avgMs * 1000,
  p50Us: w.p50Ms * 1000,
  p99Us: w.p99Ms * 1000,
  rps: w.rps,
  requests: w.requests,
  cpuS: w.cpuS,
});

/** The saturated load: wrk -t1 -c32, keep-alive, as fast as it goes. */
const saturated = async (): Promise<Load> => fromWrk(await wrk([`-c${CONNS}`]));

/** The paced load: paced-load.c at `rate` requests/s, latency from each request's due time. */
const pacedLoad = async (rate: number, seconds = PACED_SECONDS): Promise<Load> => {
  const out = await pair.execAsync(pair.client, [
    ...atNormal([]),
    ...(PIN ? ["taskset", "-c", "0"] : []),
    pacedLoadBin,
    pair.serverIp,
    String(PORT),
    String(CONNS),
    String(rate),
    String(seconds),
  ]);
  const j = JSON.parse(out) as Record<string, number>;
  const n = (k: string) => j[k] ?? NaN;
  return {
    meanUs: n("mean_us"),
    p50Us: n("p50_us"),
    p99Us: n("p99_us"),
    rps: n("rate"),
    requests: n("requests"),
    cpuS: n("cpu_s"),
    paced: {
      target: n("target_rate"),
      sendMeanUs: n("send_mean_us"),
      sendP50Us: n("send_p50_us"),
      sendP99Us: n("send_p99_us"),
      late: n("late"),
      errors: n("errors"),
    },
  };
};

/** A paced run that fell behind its schedule (achieved < 98 % of the rate asked) or lost requests. */
const behind = (l: Load) => l.paced !== undefined && (l.rps < 0.98 * l.paced.target || l.paced.errors > 0);

interface Sample {
  load: Load;
  /** CPU per request of the load generator + server, µs. */
  usPerRequest: number;
  /** Cores used by the capture's processes (and its nats-server). */
  captureCores: number;
  /** Cores used by everything not this bench's, plus cores the hypervisor took away (steal). */
  otherCores: number;
  /** Cores the whole machine was busy (everything, steal included). */
  busyCores: number;
}

interface Run {
  arm: "off" | "on";
  /** the paced load right after the capture started (on) or at the same point (off) */
  cold: Sample;
  paced: Sample;
  saturated: Sample;
}
type Mode = "cold" | "paced" | "saturated";

/** Runs `load` and accounts the CPU of every party while it runs. */
const accounted = async (pids: number[], serverPid: number, load: () => Promise<Load>): Promise<Sample> => {
  const c0 = treeTicks(pids);
  const s0 = cpuTicks(serverPid);
  const m0 = machine();
  const self0 = process.cpuUsage();
  const l = await load();
  const self = process.cpuUsage(self0);
  const m1 = machine();
  const serverS = (cpuTicks(serverPid) - s0) / HZ;
  const captureS = (treeTicks(pids) - c0) / HZ;
  const wallS = (m1.total - m0.total) / HZ / cores;
  const ownS = l.cpuS + serverS + captureS + (self.user + self.system) / 1e6;
  return {
    load: l,
    usPerRequest: (1e6 * (l.cpuS + serverS)) / l.requests,
    captureCores: captureS / wallS,
    otherCores: (Math.max(0, (m1.busy - m0.busy) / HZ - ownS) + (m1.steal - m0.steal) / HZ) / wallS,
    busyCores: ((m1.busy - m0.busy) / HZ + (m1.steal - m0.steal) / HZ) / wallS,
  };
};

/** One run of an arm: the paced load, then (after the capture is idle again) the saturated one. */
const measure = async (
  arm: "off" | "on",
  natsUrl: string,
  natsPid: number | undefined,
  serverPid: number,
  rate: number,
): Promise<Run> => {
  const cap = arm === "on" ? await startCaptureProcess(natsUrl) : undefined;
  const capturePids = () => [...(cap?.pids() ?? []), ...(arm === "on" ? processTree(natsPid) : [])];
  await settle(capturePids);
  const cold = await accounted(capturePids(), serverPid, () => pacedLoad(rate));
  await pacedLoad(rate, WARM_SECONDS);
  await settle(capturePids);
  const paced = await accounted(capturePids(), serverPid, () => pacedLoad(rate));
  await settle(capturePids);
  const sat = await accounted(capturePids(), serverPid, saturated);
  await cap?.stop();
  return { arm, cold, paced, saturated: sat };
};

let nats: ChildProcess | undefined;
const natsDir = mkdtempSync(join(tmpdir(), "netpulse-latency-bench-"));
const pacedLoadBin = join(natsDir, "paced-load");
try {
  execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-o", pacedLoadBin, pacedLoadSource], { stdio: "inherit" });
  pair.up();
  const natsServer = await startNatsServer(natsDir);
  nats = natsServer.child;
  if (BUS_SCHED !== "normal") await Effect.runPromise(applySchedPolicy(BUS_SCHED as SchedPolicy, nats.pid));
  const server = await startOkServer(pair, PORT);
  const serverPid = server.pid ?? 0;
  if (PIN) execFileSync("taskset", ["-a", "-p", "-c", "1", String(serverPid)], { stdio: "ignore" });
  // warm-up (the server's JIT) and the saturated rate that fixes the paced rate for every run:
  // the best of three undisturbed runs (interference only slows a run down), 10 tries at most
  const warm: Sample[] = [];
  for (let i = 0; i < 10 && warm.filter((w) => w.otherCores <= QUIET_CORES).length < 3; i++)
    warm.push(await accounted([], serverPid, saturated));
  const quietWarm = warm.filter((w) => w.otherCores <= QUIET_CORES);
  const satRate = Math.max(...(quietWarm.length > 0 ? quietWarm : warm).map((w) => w.load.rps));
  const rate = Math.round(RATE ?? PACE * satRate);
  await pacedLoad(rate);

  const statsWas = bpfStatsSetting();
  const runs: Run[] = [];
  let bpfNsPerRequest: number[] = [];
  let perProg: ProgStats[] = [];
  try {
    setBpfStats(false);
    // This process only waits while a load runs, but its own wake-ups took the CPU from the server
    // and the generator (perf sched: 99 of 140 ms of their scheduling delays in one on-run were
    // this process, up to 10 ms at a time, mostly V8's GC threads, started by the memory reducer
    // that shrinks an idle heap). Here it runs at SCHED_IDLE, so it only fills idle time, every
    // process it starts runs at normal (atNormal; the capture service sets its own policy), and
    // the memory reducer is off (even at SCHED_IDLE its GC threads still stalled the others; see
    // the re-run with the flag at the top).
    await Effect.runPromise(applySchedPolicy("idle"));
    for (let p = 0; p < PAIRS; p++)
      for (const arm of p % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const))
        runs.push(await measure(arm, natsServer.url, nats.pid, serverPid, rate));

    // kernel-timed BPF cost: separate runs, stats on
    for (let r = 0; r < STATS_RUNS; r++) {
      const cap = await startCaptureProcess(natsServer.url);
      await settle(cap.pids);
      const { result: res, progs } = await bpfCostOf(() => wrk([`-c${CONNS}`]));
      await cap.stop();
      perProg = progs;
      bpfNsPerRequest = [...bpfNsPerRequest, perProg.reduce((t, p) => t + p.ns, 0) / res.requests];
    }
  } finally {
    setBpfStats(statsWas);
    await Effect.runPromise(applySchedPolicy("normal")); // the connection-rate runs read records in here
  }

  // A host slowed by its neighbours shows in no counter inside this VM, only as the same work
  // costing more CPU: a run more than SLOW above its own arm's median CPU per request counts as
  // disturbed too (relative to its own arm, so a cost the capture adds to every on-run stays in).
  const off = runs.filter((r) => r.arm === "off");
  const on = runs.filter((r) => r.arm === "on");
  const medians = {
    cold: { off: median(off.map((r) => r.cold.usPerRequest)), on: median(on.map((r) => r.cold.usPerRequest)) },
    paced: { off: median(off.map((r) => r.paced.usPerRequest)), on: median(on.map((r) => r.paced.usPerRequest)) },
    saturated: {
      off: median(off.map((r) => r.saturated.usPerRequest)),
      on: median(on.map((r) => r.saturated.usPerRequest)),
    },
  };
  const quiet = (m: Mode) => (r: Run) =>
    r[m].otherCores <= QUIET_CORES && r[m].usPerRequest <= SLOW * medians[m][r.arm];
  // pairs in run order: (0,1) (2,3) … are off/on; (1,2) (3,4) … are on/on or off/off
  const abPairs: [Run, Run][] = [];
  const aaPairs: [Run, Run][] = [];
  for (let i = 0; i + 1 < runs.length; i++) {
    const a = runs[i] as Run;
    const b = runs[i + 1] as Run;
    (i % 2 === 0 ? abPairs : aaPairs).push(a.arm === "off" ? [a, b] : [b, a]);
  }
  const pairRatio = (ps: [Run, Run][], f: (r: Run) => number) => median(ps.map(([x, y]) => f(y) / f(x)));
  const ratios = (m: Mode, ps: [Run, Run][]) => {
    const r = (f: (s: Sample) => number) => pairRatio(ps, (x) => f(x[m])).toFixed(3);
    return m !== "saturated"
      ? `p50 ${r((s) => s.load.p50Us)}  p99 ${r((s) => s.load.p99Us)}  mean ${r((s) => s.load.meanUs)}  (from the actual send: p50 ${r((s) => s.load.paced?.sendP50Us ?? NaN)}  p99 ${r((s) => s.load.paced?.sendP99Us ?? NaN)}  mean ${r((s) => s.load.paced?.sendMeanUs ?? NaN)})  CPU/request ${r((s) => s.usPerRequest)}`
      : `throughput ${r((s) => s.load.rps)}  CPU/request ${r((s) => s.usPerRequest)}  avg latency ${r((s) => s.load.meanUs)}  p50 ${r((s) => s.load.p50Us)}  p99 ${r((s) => s.load.p99Us)}`;
  };
  // How far the median pair ratio can be trusted, without assuming a distribution: the pair
  // ratios' k-th smallest and k-th largest bound the true median with probability 1 − 2·P(B < k),
  // B ~ Binomial(n, ½); k is the largest that keeps that ≥ 90 %.
  const medianInterval = (xs: number[]): string => {
    const sorted = [...xs].sort((a, b) => a - b);
    const n = sorted.length;
    const choose = (k: number) => [...Array(k).keys()].reduce((c, i) => (c * (n - i)) / (i + 1), 1);
    let k = 0;
    let tail = 0; // P(B < k + 1)
    while (k + 1 <= n / 2 && 1 - 2 * (tail + choose(k) / 2 ** n) >= 0.9) tail += choose(k++) / 2 ** n;
    if (k === 0) return "n/a";
    return `${(sorted[k - 1] as number).toFixed(3)}–${(sorted[n - k] as number).toFixed(3)} (${(100 * (1 - 2 * tail)).toFixed(0)} %)`;
  };
  const intervals = (m: Mode, ps: [Run, Run][]) => {
    const r = (f: (s: Sample) => number) => medianInterval(ps.map(([x, y]) => f(y[m]) / f(x[m])));
    return `p50 ${r((s) => s.load.p50Us)}  p99 ${r((s) => s.load.p99Us)}  mean ${r((s) => s.load.meanUs)}`;
  };
  const med = (xs: Run[], f: (r: Run) => number) => median(xs.map(f));
  const row = (m: Mode, name: string, xs: Run[]) =>
    `  ${name.padEnd(12)} mean ${med(xs, (x) => x[m].load.meanUs).toFixed(0)} µs  p50 ${med(xs, (x) => x[m].load.p50Us).toFixed(0)} µs  p99 ${med(xs, (x) => x[m].load.p99Us).toFixed(0)} µs  ${med(xs, (x) => x[m].load.rps).toFixed(0)} req/s  ${med(xs, (x) => x[m].usPerRequest).toFixed(2)} µs CPU/request  capture ${(100 * med(xs, (x) => x[m].captureCores)).toFixed(1)} % of a core  other processes ${med(xs, (x) => x[m].otherCores).toFixed(2)} cores  machine busy ${med(xs, (x) => x[m].busyCores).toFixed(2)} of ${cores} cores`;
  const onSide =
    CAPTURE === "service"
      ? "capture service process (loader + pipeline + metrics + heartbeat) publishing to its own nats-server"
      : CAPTURE === "cli"
        ? "`netpulse capture --stdout` process (loader + pipeline) into /dev/null"
        : "the C loader alone (BPF programs + ring buffer reads) into /dev/null: a diagnostic, no Node, no bus";
  console.log(
    `keep-alive HTTP, ${CONNS} connections, ${PACED_SECONDS} s paced cold + ${WARM_SECONDS} s paced unmeasured + ${PACED_SECONDS} s paced + ${SECONDS} s saturated per run, ${PAIRS} off/on pairs in ABBA order, kernel.bpf_stats_enabled=0`,
  );
  console.log(
    `  on = ${onSide}${CAPTURE_NICE === undefined ? "" : ` AT NICE ${CAPTURE_NICE} (diagnostic, not as deployed)`}${BUS_SCHED === "normal" ? "" : ` (its nats-server at ${BUS_SCHED}: diagnostic)`}, its threads at ${[...capturePolicies].join(", ")}; its CPU counted in "capture"; "other" = other processes + steal`,
  );
  console.log(
    `  each run: the cold paced load, the unmeasured one, the measured paced load (${rate} req/s, ${RATE === undefined ? `${(100 * PACE).toFixed(0)} % of the ${satRate.toFixed(0)} req/s the best of ${quietWarm.length > 0 ? `${quietWarm.length} undisturbed` : `${warm.length} (all disturbed)`} warm-up runs reached` : "RATE"}), then the saturated one (wrk -t1 -c${CONNS})`,
  );
  for (const r of runs) {
    const p = r.paced;
    const s = r.saturated;
    console.log(
      `  ${r.arm.padEnd(3)} cold p99 ${r.cold.load.p99Us.toFixed(0)} µs  paced ${p.load.rps.toFixed(0)}/${p.load.paced?.target.toFixed(0)} req/s  p50 ${p.load.p50Us.toFixed(0)} µs  p99 ${p.load.p99Us.toFixed(0)} µs  mean ${p.load.meanUs.toFixed(0)} µs  capture ${(100 * p.captureCores).toFixed(1)} %  other ${p.otherCores.toFixed(2)}${behind(p.load) ? "  (BEHIND SCHEDULE)" : ""}${quiet("paced")(r) ? "" : "  (disturbed)"}` +
        `  | saturated ${s.load.rps.toFixed(0).padStart(6)} req/s  avg ${s.load.meanUs.toFixed(0)} µs  ${s.usPerRequest.toFixed(2)} µs CPU/request  capture ${(100 * s.captureCores).toFixed(1)} %  other ${s.otherCores.toFixed(2)}${quiet("saturated")(r) ? "" : "  (disturbed)"}`,
    );
  }
  const bestOf = (xs: Run[], f: (r: Run) => number, pick: (...v: number[]) => number) => pick(...xs.map(f));
  const bestRatio = (f: (r: Run) => number, pick: (...v: number[]) => number) =>
    (bestOf(on, f, pick) / bestOf(off, f, pick)).toFixed(3);
  const summary = (m: Mode, title: string, goal: string) => {
    const q = quiet(m);
    const quietAb = abPairs.filter(([x, y]) => q(x) && q(y));
    const quietAa = aaPairs.filter(([x, y]) => q(x) && q(y));
    const enough = quietAb.length >= 3;
    const aaOk = enough && quietAa.length >= 3;
    console.log(`\n${title}`);
    console.log(row(m, "capture off", off));
    console.log(row(m, "capture on", on));
    console.log(
      `  ratio on/off, median of ${enough ? `${quietAb.length} undisturbed` : `all ${abPairs.length}`} pairs: ${ratios(m, enough ? quietAb : abPairs)}${goal}`,
    );
    if (m !== "saturated")
      console.log(
        `  interval of that median (distribution-free, from the ${enough ? quietAb.length : abPairs.length} pair ratios): ${intervals(m, enough ? quietAb : abPairs)}`,
      );
    console.log(
      `  A/A noise floor, adjacent same-arm runs (${aaOk ? `${quietAa.length} undisturbed` : `all ${aaPairs.length}`} pairs): ${ratios(m, aaOk ? quietAa : aaPairs)}`,
    );
    console.log(
      m !== "saturated"
        ? `  best run of each arm (interference only slows a run down): p50 ${bestRatio((r) => r[m].load.p50Us, Math.min)}  p99 ${bestRatio((r) => r[m].load.p99Us, Math.min)}  mean ${bestRatio((r) => r[m].load.meanUs, Math.min)}`
        : `  best run of each arm (interference only slows a run down): throughput ${bestRatio((r) => r.saturated.load.rps, Math.max)}  CPU/request ${bestRatio((r) => r.saturated.usPerRequest, Math.min)}  avg latency ${bestRatio((r) => r.saturated.load.meanUs, Math.min)}`,
    );
    if (enough) console.log(`  all ${abPairs.length} on/off pairs, disturbed included: ${ratios(m, abPairs)}`);
    else
      console.log(
        `  only ${quietAb.length} of ${abPairs.length} pairs ran undisturbed: the machine was busy, ratios above are not trustworthy`,
      );
  };
  summary(
    "paced",
    `REQUEST LATENCY OVERHEAD at a fixed ${rate} req/s (open loop, latency from each request's due time):`,
    "  (goal ≤ 1.03)",
  );
  summary(
    "cold",
    `  COLD: the same paced load in the first ${PACED_SECONDS} s after the capture started (its start-up, once per node; not the goal's figure):`,
    "",
  );
  const lagging = runs.filter((r) => behind(r.paced.load)).length;
  console.log(
    `  achieved rate: median ${med(off, (r) => r.paced.load.rps).toFixed(0)} off, ${med(on, (r) => r.paced.load.rps).toFixed(0)} on, of ${rate} asked; ${lagging} of ${runs.length} runs behind schedule or with errors; sends more than 1 ms late: ${runs.reduce((t, r) => t + (r.paced.load.paced?.late ?? 0), 0)}`,
  );
  summary(
    "saturated",
    `THROUGHPUT / CPU OVERHEAD AT SATURATION (wrk -t1 -c${CONNS} closed loop on ${cores} cores: its latency is concurrency × CPU per request / cores, i.e. the capture's total CPU shown as queueing):`,
    "",
  );
  const nsReq = median(bpfNsPerRequest);
  const cpuOffNs = median(off.map((x) => x.saturated.usPerRequest)) * 1000;
  const p50OffNs = median(off.map((x) => x.paced.load.p50Us)) * 1000;
  console.log(
    `BPF time per request (kernel-timed, all programs, ${STATS_RUNS} separate runs with bpf_stats on): ${nsReq.toFixed(0)} ns = ${((100 * nsReq) / cpuOffNs).toFixed(2)} % of the CPU a request costs without capture (${(cpuOffNs / 1000).toFixed(1)} µs, wrk + server, saturated), ${((100 * nsReq) / p50OffNs).toFixed(2)} % of the paced p50 latency without capture`,
  );
  console.log(
    `  (an upper bound: each run's figure includes one of the two clock reads bpf_stats adds; not included: the tracepoints' dispatch to the programs)`,
  );
  console.log(
    `  last run per program: ${perProg
      .filter((p) => p.runs > 0)
      .map((p) => `${p.name} ${p.runs} runs × ${(p.ns / p.runs).toFixed(0)} ns`)
      .join(", ")}`,
  );
  console.log(`  (load average after the runs: ${loadavg()} on ${cores} cores)`);

  console.log(`\nnew connections (Connection: close), capture on (pipeline in this process):`);
  let best = 0;
  for (const c of [8, 32, 128]) {
    const cap = await startCapture(pair.cidr);
    const res = await wrk([`-c${c}`, "-H", "'Connection: close'"]);
    const flows = await cap.stop();
    const accepted = flows.filter((f) => f.direction === "server" && f.dst_port === PORT && f.state === "CLOSE").length;
    const lost = cap.stats.ringbufDrops + cap.stats.queueDrops + cap.stats.tableFull;
    const ok = lost === 0 && accepted >= res.requests;
    console.log(
      `  -c${String(c).padEnd(4)} ${res.rps.toFixed(0).padStart(6)} conn/s  requests ${res.requests}  server-side flows captured ${accepted}  dropped ${lost}  ${ok ? "complete" : "INCOMPLETE"}`,
    );
    if (ok) best = Math.max(best, res.rps);
  }
  console.log(
    `highest new-connection rate with zero lost records: ${best.toFixed(0)} conn/s (limited by wrk + server on ${cores} cores)`,
  );

  // The goal's figure for bench/results: the paced load's on/off ratios (the undisturbed pairs when
  // at least 3 ran undisturbed, as printed above) as overheads, mean latency first.
  const pacedQuiet = abPairs.filter(([x, y]) => quiet("paced")(x) && quiet("paced")(y));
  const pacedPairs = pacedQuiet.length >= 3 ? pacedQuiet : abPairs;
  const overhead = (f: (r: Run) => number) => pairRatio(pacedPairs, f) - 1;
  const file = await writeResults("capture-latency", {
    capture_latency_overhead: overhead((r) => r.paced.load.meanUs),
    // fewer than 3 undisturbed off/on pairs: the bench printed "not trustworthy" (a busy machine)
    capture_latency_trustworthy: pacedQuiet.length >= 3,
    capture_latency_overhead_p50: overhead((r) => r.paced.load.p50Us),
    capture_latency_overhead_p99: overhead((r) => r.paced.load.p99Us),
    capture_saturated_throughput_ratio: pairRatio(abPairs, (r) => r.saturated.load.rps),
    capture_new_connections_per_s: best,
    raw: {
      pacedRate: rate,
      pairs: abPairs.length,
      undisturbedPairs: pacedQuiet.length,
      trustworthy: pacedQuiet.length >= 3,
      aaOverheadMean: pairRatio(aaPairs, (r) => r.paced.load.meanUs) - 1,
      bpfNsPerRequest: nsReq,
      capture: CAPTURE,
    },
  });
  console.log(`wrote ${file}`);
} finally {
  await stopChild(nats);
  await pair.down();
  rmSync(natsDir, { recursive: true, force: true });
}
