// The capture's own user-space CPU, loader and Node service separately, idle and under the latency
// bench's load (wrk -t1 -c32 keep-alive against a node server in a netns), root only. Per process:
// CPU from /proc/<pid>/task/*/schedstat (ns on CPU, every thread) and /proc/<pid>/stat utime+stime
// (ticks), and wake-ups (voluntary context switches, every thread); the Node service's resident
// memory (VmRSS) at the end of the load window. The capture runs as deployed
// (services/capture/dist/main.js, built by stage.ts, publishing to a nats-server of the bench's own).
//   TREES=old=/path/to/baseline-checkout,new=.  compares trees in the same run (ABBA rounds; each tree
//   needs its own built loader, make -C <tree>/bpf, and node_modules: cp -al this repo's node_modules
//   into it; a symlink would resolve the @netpulse/* workspace packages to this repo's).
//   CAPTURE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" passes flags to the capture's node (profiling).
//   THREADS=1 also prints each thread's share (name from /proc/<pid>/task/<tid>/comm).
//   flock /tmp/netpulse-bench.lock node --import tsx services/capture/bench/own-cpu.bench.ts
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NetnsPair } from "../../../test/capture-netns.js";
import { startNatsServer, stopChild } from "../../../test/support/processes.js";
import { startCaptureService, startOkServer } from "./stage.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? "2");
const IDLE_S = Number(process.env["IDLE_SECONDS"] ?? "10");
const LOAD_S = Number(process.env["LOAD_SECONDS"] ?? "10");
const PORT = 8080;
const TREES = (process.env["TREES"] ?? "current=.").split(",").map((t) => {
  const [name, path] = t.split("=");
  return { name: name ?? "", path: resolve(path ?? ".") };
});

const sleep = (msecs: number) => new Promise((r) => setTimeout(r, msecs));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Usage {
  /** ns on CPU, all threads (schedstat). */
  ns: number;
  /** utime + stime ticks (1/100 s). */
  ticks: number;
  /** voluntary context switches, all threads: how often it went to sleep (≈ wake-ups). */
  wakeups: number;
}

const usage = (pid: number | undefined): Usage => {
  const u: Usage = { ns: 0, ticks: 0, wakeups: 0 };
  if (pid === undefined) return u;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    u.ticks = Number(f[11]) + Number(f[12]);
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        u.ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
        const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, "utf8"));
        u.wakeups += Number(m?.[1] ?? 0);
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return u;
};
/** ns on CPU and wake-ups per thread name (several threads may share one). */
const byThread = (pid: number): Map<string, [number, number]> => {
  const out = new Map<string, [number, number]>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim();
        const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
        const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, "utf8"));
        const prev = out.get(name) ?? [0, 0];
        out.set(name, [prev[0] + ns, prev[1] + Number(m?.[1] ?? 0)]);
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return out;
};
const threadLine = (a: Map<string, [number, number]>, b: Map<string, [number, number]>, s: number) =>
  [...b]
    .map(([name, [ns, w]]): [string, number, number] => [
      name,
      ns - (a.get(name)?.[0] ?? 0),
      w - (a.get(name)?.[1] ?? 0),
    ])
    .filter(([, ns]) => ns > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([name, ns, w]) => `${name} ${((100 * ns) / 1e9 / s).toFixed(2)} % ${(w / s).toFixed(1)}/s`)
    .join(", ");

const minus = (a: Usage, b: Usage): Usage => ({
  ns: a.ns - b.ns,
  ticks: a.ticks - b.ticks,
  wakeups: a.wakeups - b.wakeups,
});

const children = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
};
/** Resident set size in bytes (VmRSS), NaN when the process is gone. */
const rss = (pid: number): number => {
  try {
    return 1024 * Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

const pair = new NetnsPair();

const startCapture = async (tree: string, natsUrl: string) => {
  const { child, metricsPort } = await startCaptureService({ natsUrl, cidr: pair.cidr, tree });
  const loader = children(child.pid ?? 0).find((p) => comm(p).startsWith("netpulse-loade"));
  if (loader === undefined) throw new Error("no loader process");
  return { child, node: child.pid ?? 0, loader, metricsPort };
};

interface Sample {
  tree: string;
  idle: { node: Usage; loader: Usage; records: number };
  load: { node: Usage; loader: Usage; records: number; requests: number };
  /** the Node service's VmRSS after the load window */
  rss: number;
}

/** Kernel records the capture has read so far (its own gauge, synced every second). */
const recordsIn = async (metricsPort: number): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^netpulse_capture_kernel_records (\d+)/m.exec(text)?.[1] ?? "NaN");
};

const window = async (
  label: string,
  pids: { node: number; loader: number; metricsPort: number },
  work: () => Promise<unknown>,
) => {
  const k0 = await recordsIn(pids.metricsPort);
  const t0 = process.env["THREADS"] === "1" ? byThread(pids.node) : undefined;
  const started = Date.now();
  const n0 = usage(pids.node);
  const l0 = usage(pids.loader);
  const r = await work();
  const n1 = usage(pids.node);
  const l1 = usage(pids.loader);
  const k1 = await recordsIn(pids.metricsPort);
  if (t0 !== undefined)
    console.log(`  ${label} node threads: ${threadLine(t0, byThread(pids.node), (Date.now() - started) / 1000)}`);
  return { node: minus(n1, n0), loader: minus(l1, l0), r, records: k1 - k0 };
};

let nats: ChildProcess | undefined;
const natsDir = mkdtempSync(join(tmpdir(), "netpulse-own-cpu-bench-"));
try {
  pair.up();
  const natsServer = await startNatsServer(natsDir);
  nats = natsServer.child;
  await startOkServer(pair, PORT);
  const wrk = async (): Promise<number> => {
    const out = await pair.execAsync(pair.client, [
      "wrk",
      "-t1",
      "-c32",
      `-d${LOAD_S}s`,
      `http://${pair.serverIp}:${PORT}/`,
    ]);
    return Number(/(\d+) requests in/.exec(out)?.[1] ?? "NaN");
  };
  await pair.execAsync(pair.client, ["wrk", "-t1", "-c32", "-d2s", `http://${pair.serverIp}:${PORT}/`]); // warm-up

  const samples: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? TREES : [...TREES].reverse();
    for (const t of order) {
      const cap = await startCapture(t.path, natsServer.url);
      await sleep(3000); // start-up work (module loading, JIT) out of the way
      const idle = await window(`${t.name} idle`, cap, () => sleep(IDLE_S * 1000));
      const load = await window(`${t.name} load`, cap, wrk);
      const nodeRss = rss(cap.node);
      await stopChild(cap.child);
      samples.push({ tree: t.name, idle, load: { ...load, requests: load.r as number }, rss: nodeRss });
    }
  }

  const pct = (u: Usage, s: number) => (100 * u.ns) / 1e9 / s;
  const line = (label: string, u: Usage[], s: number) =>
    `${label.padEnd(14)} ${median(u.map((x) => pct(x, s))).toFixed(2)} % of a core (schedstat; stat ${median(u.map((x) => x.ticks)).toFixed(0)} ticks in ${s} s)  ${median(u.map((x) => x.wakeups / s)).toFixed(1)} wake-ups/s`;
  console.log(
    `capture's own CPU, ${ROUNDS} rounds per tree (ABBA), idle ${IDLE_S} s then wrk -t1 -c32 keep-alive ${LOAD_S} s`,
  );
  for (const t of TREES) {
    const ss = samples.filter((x) => x.tree === t.name);
    console.log(`${t.name} (${t.path}):`);
    console.log(
      `  idle  ${line(
        "node",
        ss.map((x) => x.idle.node),
        IDLE_S,
      )}`,
    );
    console.log(
      `  idle  ${line(
        "loader",
        ss.map((x) => x.idle.loader),
        IDLE_S,
      )}`,
    );
    console.log(
      `  load  ${line(
        "node",
        ss.map((x) => x.load.node),
        LOAD_S,
      )}`,
    );
    console.log(
      `  load  ${line(
        "loader",
        ss.map((x) => x.load.loader),
        LOAD_S,
      )}`,
    );
    console.log(`  node RSS after load ${(median(ss.map((x) => x.rss)) / 2 ** 20).toFixed(1)} MiB`);
    console.log(
      `  load  ${median(ss.map((x) => x.load.requests / LOAD_S)).toFixed(0)} req/s; kernel records read ${median(ss.map((x) => x.idle.records / IDLE_S)).toFixed(1)}/s idle, ${median(ss.map((x) => x.load.records / LOAD_S)).toFixed(1)}/s under load`,
    );
  }
  if (TREES.length === 2) {
    const [a, b] = TREES as [(typeof TREES)[0], (typeof TREES)[0]];
    const m = (name: string, f: (x: Sample) => number) => median(samples.filter((x) => x.tree === name).map(f));
    const ratio = (f: (x: Sample) => number) => (m(b.name, f) / m(a.name, f)).toFixed(3);
    console.log(`${b.name}/${a.name} (medians):`);
    console.log(
      `  idle  node CPU ${ratio((x) => x.idle.node.ns)}  wake-ups ${ratio((x) => x.idle.node.wakeups)}   loader CPU ${ratio((x) => x.idle.loader.ns)}  wake-ups ${ratio((x) => x.idle.loader.wakeups)}`,
    );
    console.log(
      `  load  node CPU ${ratio((x) => x.load.node.ns)}  wake-ups ${ratio((x) => x.load.node.wakeups)}   loader CPU ${ratio((x) => x.load.loader.ns)}  wake-ups ${ratio((x) => x.load.loader.wakeups)}`,
    );
    console.log(`  node RSS ${ratio((x) => x.rss)}`);
  }
} finally {
  await stopChild(nats);
  await pair.down();
  rmSync(natsDir, { recursive: true, force: true });
}
