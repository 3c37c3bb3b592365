// What the capture benches share: the HTTP server they load (answers "ok", in the pair's server
// namespace) and the capture service as deployed (its own Node process publishing to the given
// nats-server, stdout discarded, resolved once /readyz answers: the loader is attached by then).
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { lineFrom, type NetnsPair } from "../../../test/capture-netns.js";
import { freePort, until } from "../../../test/support/processes.js";

const devNull = openSync("/dev/null", "w");

export interface CaptureServiceOptions {
  readonly natsUrl: string;
  /** NETPULSE_CAPTURE_CIDRS: the bench pair's addresses. */
  readonly cidr: string;
  /** Checkout to run (another tree for old/new comparisons); default the current directory. */
  readonly tree?: string;
  readonly nodeArgs?: ReadonlyArray<string>;
}

export const startCaptureService = async (
  o: CaptureServiceOptions,
): Promise<{ readonly child: ChildProcess; readonly metricsPort: number }> => {
  const metricsPort = await freePort();
  const tree = o.tree ?? ".";
  const child = spawn(
    process.execPath,
    [...(o.nodeArgs ?? []), "--import", "tsx", join(tree, "services/capture/src/main.ts")],
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
