// What the capture benches share: the HTTP server they load (answers "ok", in the pair's server
// namespace) and the capture service as deployed (its own Node process running the compiled
// services/capture/dist/main.js like deploy/capture-daemonset.yaml, publishing to the given
// nats-server, stdout discarded, resolved once /readyz answers: the loader is attached by then).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { lineFrom, type NetnsPair } from "../../../test/capture-netns.js";
import { freePort, until } from "../../../test/support/processes.js";

const devNull = openSync("/dev/null", "w");

/** node's flags in deploy/capture-daemonset.yaml (see services/capture/src/main.ts). */
export const CAPTURE_NODE_FLAGS = ["--no-memory-reducer", "--enable-source-maps"];

export interface CaptureServiceOptions {
  readonly natsUrl: string;
  /** NETPULSE_CAPTURE_CIDRS: the bench pair's addresses. */
  readonly cidr: string;
  /** Checkout to run (another tree for old/new comparisons); default the current directory. */
  readonly tree?: string;
  readonly nodeArgs?: ReadonlyArray<string>;
}

const built = new Set<string>();
/** `tsc -b` once per tree and process: incremental, well under a second when dist/ is current. Not tsx:
 * its loader thread and the transpiler's garbage are not in a deployed capture. */
export const buildDist = (tree: string) => {
  if (built.has(tree)) return;
  execFileSync(join(tree, "node_modules/.bin/tsc"), ["-b"], { cwd: tree, stdio: "inherit" });
  built.add(tree);
};

export const startCaptureService = async (
  o: CaptureServiceOptions,
): Promise<{ readonly child: ChildProcess; readonly metricsPort: number }> => {
  const metricsPort = await freePort();
  const tree = o.tree ?? ".";
  buildDist(tree);
  const child = spawn(
    process.execPath,
    [...(o.nodeArgs ?? []), ...CAPTURE_NODE_FLAGS, join(tree, "services/capture/dist/main.js")],
    {
      cwd: tree,
      env: {
        ...process.env,
        NETPULSE_BUS: "nats",
        NETPULSE_NATS_URL: o.natsUrl,
        NETPULSE_CAPTURE_CIDRS: o.cidr,
        NETPULSE_METRICS_PORT: String(metricsPort),
        NETPULSE_NODE_NAME: "bench",
      },
      stdio: ["ignore", devNull, "pipe"],
    },
  );
  child.stderr?.resume();
  await until(
    "capture service ready",
    async () => child.exitCode === null && (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200,
    30_000,
  );
  return { child, metricsPort };
};

/** A keep-alive HTTP server in the pair's server namespace answering "ok" on `port`, listening. */
export const startOkServer = async (pair: NetnsPair, port: number) => {
  const server = pair.spawn(pair.server, [
    process.execPath,
    "-e",
    `require("http").createServer((q, s) => s.end("ok")).listen(${port}, () => console.log("listening"))`,
  ]);
  await lineFrom(server, "listening");
  return server;
};

export interface ProgStats {
  readonly name: string;
  /** run_time_ns */
  readonly ns: number;
  /** run_cnt */
  readonly runs: number;
}

/** The capture's programs (on_*, flush) as `bpftool prog show` counts them. */
export const progStats = (): ProgStats[] =>
  (
    JSON.parse(execFileSync("bpftool", ["prog", "show", "-j"], { encoding: "utf8" })) as {
      name?: string;
      run_time_ns?: number;
      run_cnt?: number;
    }[]
  )
    .filter((p) => p.name !== undefined && /^on_|^flush$/.test(p.name))
    .map((p) => ({ name: p.name ?? "", ns: p.run_time_ns ?? 0, runs: p.run_cnt ?? 0 }));

export const setBpfStats = (on: boolean | string) =>
  execFileSync("sysctl", ["-qw", `kernel.bpf_stats_enabled=${on === true ? 1 : on === false ? 0 : on}`]);

/** kernel.bpf_stats_enabled as found, to put back when the bench ends. */
export const bpfStatsSetting = (): string =>
  execFileSync("sysctl", ["-n", "kernel.bpf_stats_enabled"], { encoding: "utf8" }).trim();

/**
 * Runs `load` with kernel.bpf_stats_enabled on (it adds two clock reads to every program run, so
 * only here) and returns what each program spent during it.
 */
export const bpfCostOf = async <A>(load: () => Promise<A>): Promise<{ result: A; progs: ProgStats[] }> => {
  setBpfStats(true);
  try {
    const before = progStats();
    const result = await load();
    const after = progStats();
    const progs = after.map((a) => {
      const b = before.find((x) => x.name === a.name);
      return { name: a.name, ns: a.ns - (b?.ns ?? 0), runs: a.runs - (b?.runs ?? 0) };
    });
    return { result, progs };
  } finally {
    setBpfStats(false);
  }
};
