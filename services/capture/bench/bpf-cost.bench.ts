// Kernel-timed cost of the capture's BPF programs under the latency bench's load (wrk -t1 -c32
// keep-alive against a node server in a netns), root only: per program, runs per request and ns
// per run from kernel.bpf_stats_enabled=1 (run_time_ns / run_cnt of this loader's programs only),
// and all programs' ns per request. The loader alone runs (stdout to /dev/null): the kernel side
// costs the same whoever reads the records.
//   LOADERS=old=/path/to/netpulse-loader,new=bpf/.output/netpulse-loader compares builds in the
//   same run (ABBA rounds) and prints new/old ratios.
//   flock /tmp/netpulse-bench.lock node --import tsx services/capture/bench/bpf-cost.bench.ts
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { resolve } from "node:path";
import { NetnsPair } from "../../../test/capture-netns.js";
import { stopChild, until } from "../../../test/support/processes.js";
import { bpfCostOf, bpfStatsSetting, progStats, setBpfStats, startOkServer, type ProgStats } from "./stage.js";
import { defaultLoaderPath } from "../src/LoaderProcess.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? "3");
const SECONDS = Number(process.env["RUN_SECONDS"] ?? "4");
const PORT = 8080;
const LOADERS = (process.env["LOADERS"] ?? `current=${defaultLoaderPath()}`).split(",").map((t) => {
  const [name, path] = t.split("=");
  return { name: name ?? "", path: resolve(path ?? "") };
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Sample {
  loader: string;
  requests: number;
  progs: ProgStats[];
}

if (progStats().length > 0) throw new Error("another capture's BPF programs are loaded; stop it first");
const pair = new NetnsPair();
let child: ChildProcess | undefined;
const devNull = openSync("/dev/null", "w");
const statsWas = bpfStatsSetting();
try {
  pair.up();
  await startOkServer(pair, PORT);
  const wrk = async (secs: number) =>
    Number(
      /(\d+) requests in/.exec(
        await pair.execAsync(pair.client, ["wrk", "-t1", "-c32", `-d${secs}s`, `http://${pair.serverIp}:${PORT}/`]),
      )?.[1] ?? "NaN",
    );
  await wrk(2); // warm-up

  const samples: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++)
    for (const l of r % 2 === 0 ? LOADERS : [...LOADERS].reverse()) {
      child = spawn(l.path, ["--cidr", pair.cidr], { stdio: ["ignore", devNull, "inherit"] });
      await until("loader attached", () => progStats().length >= 7, 20_000);
      await new Promise((res) => setTimeout(res, 300));
      const { result: requests, progs } = await bpfCostOf(() => wrk(SECONDS));
      await stopChild(child);
      samples.push({ loader: l.name, requests, progs });
    }

  const total = (s: Sample) => s.progs.reduce((t, p) => t + p.ns, 0) / s.requests;
  console.log(
    `BPF cost under wrk -t1 -c32 keep-alive, ${SECONDS} s runs, ${ROUNDS} rounds per loader (ABBA), bpf_stats on (medians)`,
  );
  const names = [...new Set(samples.flatMap((s) => s.progs.map((p) => p.name)))];
  for (const l of LOADERS) {
    const ss = samples.filter((s) => s.loader === l.name);
    console.log(
      `${l.name} (${l.path}): ${median(ss.map(total)).toFixed(0)} ns/request all programs  (runs: ${ss.map((s) => total(s).toFixed(0)).join(" ")})  ${median(ss.map((s) => s.requests / SECONDS)).toFixed(0)} req/s`,
    );
    for (const n of names) {
      const per = ss.map((s) => s.progs.find((p) => p.name === n) ?? { name: n, ns: 0, runs: 0 });
      if (per.every((p) => p.runs === 0)) continue;
      console.log(
        `  ${n.padEnd(16)} ${median(per.map((p, i) => p.runs / (ss[i]?.requests ?? 1))).toFixed(3)} runs/request  ${median(per.filter((p) => p.runs > 0).map((p) => p.ns / p.runs)).toFixed(1)} ns/run  ${median(per.map((p, i) => p.ns / (ss[i]?.requests ?? 1))).toFixed(1)} ns/request`,
      );
    }
  }
  if (LOADERS.length === 2) {
    const [a, b] = LOADERS as [(typeof LOADERS)[0], (typeof LOADERS)[0]];
    const m = (name: string) => median(samples.filter((s) => s.loader === name).map(total));
    console.log(`${b.name}/${a.name}: all programs' ns per request ${(m(b.name) / m(a.name)).toFixed(3)}`);
  }
} finally {
  await stopChild(child);
  setBpfStats(statsWas);
  await pair.down();
}
