// The chain's services (enricher, detector, sink) as processes through their real entry points,
// for anything that runs the deployed chain: the end-to-end bench (bench/e2e), the fault suite
// and the cluster tests (test/faults/support/chain.ts). Each
// service is ONE process: node with tsx as an import hook, not the tsx command, which runs the
// service as a child of its own, so a SIGKILL or a /proc reading would only reach the wrapper.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ServiceProcess } from "./processes.js";

export type ChainService = "enricher" | "detector" | "sink";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The variable each service reads its HTTP port (/readyz, /metrics) from. */
export const portVariable = (s: ChainService): string =>
  s === "sink" ? "NETPULSE_SINK_HTTP_PORT" : "NETPULSE_METRICS_PORT";

/**
 * Starts `services/<name>/src/main.ts` from the sources (tsconfig.eslint.json paths, as the CLI
 * runs) with `env` over this process's environment; keeps the last 200 kB of its output.
 */
export const startChainService = (
  name: ChainService,
  env: Record<string, string>,
  nodeArgs: ReadonlyArray<string> = [],
): ServiceProcess => {
  let log = "";
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", `services/${name}/src/main.ts`], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: "tsconfig.eslint.json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // the JSON log lines go to stdout, a crash's stack to stderr
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { name, child, log: () => log };
};

/** Waits for the service's /readyz on `port`; fails with its log's tail if it exits or never gets ready. */
export const waitReady = async (p: ServiceProcess, port: number, timeoutMs = 120_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(`${p.name} exited ${p.child.exitCode ?? p.child.signalCode}:\n${p.log().slice(-3000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`${p.name} not ready after ${timeoutMs} ms:\n${p.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
