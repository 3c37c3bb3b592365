// Child processes for end-to-end tests: free ports, waiting for a condition, a private
// nats-server, netpulse services launched through their real entry points, and clean stops.
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { join } from "node:path";

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });

/** Polls `cond` until it holds; a condition that throws (server not up yet) counts as not yet. */
export const until = async (
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(cond)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect(port, "127.0.0.1", () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export const stopChild = (child: ChildProcess | undefined, graceMs = 10_000): Promise<void> =>
  new Promise((resolve) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
  });

/** A JetStream nats-server of the test's own on a free port, data under `dir`. */
export const startNatsServer = async (dir: string): Promise<{ url: string; child: ChildProcess }> => {
  const port = await freePort();
  const child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(dir, "js")], {
    stdio: "ignore",
  });
  await until("nats-server", () => accepts(port), 20_000);
  return { url: `nats://127.0.0.1:${port}`, child };
};

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  readonly log: () => string;
}

/** A netpulse service through its real entry point (services/<name>/src/main.ts via tsx). */
export const startService = (name: string, env: Record<string, string>): ServiceProcess => {
  let log = "";
  const child = spawn("node_modules/.bin/tsx", ["--tsconfig", "tsconfig.eslint.json", `services/${name}/src/main.ts`], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-200_000);
  });
  return { name, child, log: () => log };
};
