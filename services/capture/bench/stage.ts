// What the capture benches share: the HTTP server they load (answers "ok", in the pair's server
// namespace) and the capture service as deployed (its own Node process running the compiled
// services/capture/dist/main.js with the command of the Helm chart (capture.command), publishing to
// the given nats-server, stdout discarded, resolved once /readyz answers: the loader is attached by
// then). CAPTURE_NODE_ARGS (a diagnostic, not as deployed, e.g. "--cpu-prof --cpu-prof-dir=/tmp/x")
// adds flags for the service's node.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { lineFrom, type NetnsPair } from "../../../test/capture-netns.js";
import { freePort, until } from "../../../test/support/processes.js";

const devNull = openSync("/dev/null", "w");

const CAPTURE_NODE_ARGS = (process.env["CAPTURE_NODE_ARGS"] ?? "").split(" ").filter(Boolean);

interface Manifest {
  readonly kind?: string;
  readonly spec?: { template?: { spec?: { containers?: Array<{ name?: string; command?: string[] }> } } };
}

/** The capture's command as `tree` deploys it: [node, ...flags, script]. From the Helm chart's values
 * (deploy/helm/netpulse/values.yaml, capture.command); an older checkout has the loose manifest. */
const deployedCommand = (tree: string): { flags: string[]; script: string } => {
  const values = join(tree, "deploy/helm/netpulse/values.yaml");
  const legacy = join(tree, "deploy/capture-daemonset.yaml");
  const file = existsSync(values) ? values : legacy;
  const command =
    file === values
      ? (parse(readFileSync(file, "utf8")) as { capture?: { command?: string[] } }).capture?.command
      : parseAllDocuments(readFileSync(file, "utf8"))
          .map((d) => d.toJS() as Manifest)
          .find((m) => m.kind === "DaemonSet")
          ?.spec?.template?.spec?.containers?.find((c) => c.name === "capture")?.command;
  const script = command?.at(-1);
  if (command?.[0] !== "node" || script === undefined || command.length < 2)
    throw new Error(`${file}: no capture command [node, ...flags, script]`);
  return { flags: command.slice(1, -1), script };
};

export interface CaptureServiceOptions {
  readonly natsUrl: string;
  /** NETPULSE_CAPTURE_CIDRS: the bench pair's addresses. */
  readonly cidr: string;
  /** Checkout to run (another tree for old/new comparisons); default the current directory. */
  readonly tree?: string;
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
  const { flags, script } = deployedCommand(tree);
  const child = spawn(process.execPath, [...CAPTURE_NODE_ARGS, ...flags, join(tree, script)], {
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
  });
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
