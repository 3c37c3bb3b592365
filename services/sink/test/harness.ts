// Real processes for the sink's end-to-end tests: an isolated set of servers started by
// scripts/services.sh (own state dir and ports, so stopping one never touches the shared set),
// the built sink service (services/sink/dist/main.js) as a child process, and small waits.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

import { freePort, until as waitFor } from "../../../test/support/processes.js";

export { freePort, waitFor };

export type Service = "nats" | "kafka" | "clickhouse";

export interface Isolated {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly natsUrl: string;
  readonly clickhouseUrl: string;
  readonly kafkaBrokers: string;
  readonly up: (name: Service) => void;
  readonly down: (name: Service) => void;
  readonly pid: (name: Service) => number;
  readonly cleanup: () => void;
}

export const isolatedServices = async (): Promise<Isolated> => {
  const dir = mkdtempSync(join(tmpdir(), "netpulse-sink-e2e-"));
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const [nats, natsMon, chHttp, chTcp, kafka, kafkaCtl] = ports as [number, number, number, number, number, number];
  const env: Record<string, string> = {
    NETPULSE_SERVICES_DIR: dir,
    NETPULSE_NATS_PORT: String(nats),
    NETPULSE_NATS_MONITOR_PORT: String(natsMon),
    NETPULSE_CLICKHOUSE_HTTP_PORT: String(chHttp),
    NETPULSE_CLICKHOUSE_TCP_PORT: String(chTcp),
    NETPULSE_KAFKA_PORT: String(kafka),
    NETPULSE_KAFKA_CONTROLLER_PORT: String(kafkaCtl),
  };
  const services = (action: string, name: string) => {
    const r = spawnSync("bash", [join(repoRoot, "scripts/services.sh"), action, name], {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`services.sh ${action} ${name} failed: ${r.stderr}`);
  };
  const started = new Set<string>();
  return {
    dir,
    env,
    natsUrl: `nats://127.0.0.1:${nats}`,
    clickhouseUrl: `http://127.0.0.1:${chHttp}`,
    kafkaBrokers: `127.0.0.1:${kafka}`,
    up: (name) => {
      services("up", name);
      started.add(name);
    },
    down: (name) => services("down", name),
    pid: (name) => Number(readFileSync(join(dir, name, "pid"), "utf8").trim()),
    cleanup: () => {
      // a test that failed half-way may leave its sink running against servers about to stop
      for (const child of sinks) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const name of started) services("down", name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export interface SinkProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
  readonly metrics: () => Promise<string>;
}

/** Sink processes started by this test file, for `Isolated.cleanup`. */
const sinks = new Set<ChildProcess>();

export const startSink = (env: Record<string, string>): SinkProcess => {
  const child = spawn(process.execPath, [join(repoRoot, "services/sink/dist/main.js")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  sinks.add(child);
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    output: () => out,
    metrics: () => fetch(`http://127.0.0.1:${env["NETPULSE_SINK_HTTP_PORT"]}/metrics`).then((r) => r.text()),
  };
};

export const metricValue = (text: string, name: string, labels = ""): number => {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels === "" ? " " : `{${labels}}`}`));
  return line === undefined ? 0 : Number(line.split(" ").pop());
};
