// The demo's child processes: the four services from their entry points exactly as deployed, and
// one traffic process per pod inside its network namespace. Each runs in its own process group
// (so Ctrl-C in the terminal reaches only `netpulse start`, which then stops them in order, and a
// service's own children such as the capture's BPF loader go with it), writing to
// .netpulse/demo/<name>.log.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { captureNodeFlags } from "@netpulse/capture";
import { logFile, repoRoot } from "./paths.js";

export const SERVICE_NAMES = ["sink", "detector", "enricher", "capture"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface DemoProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Exit code or signal once it ended by itself; undefined while it runs. */
  readonly ended: () => string | undefined;
}

const launch = (name: string, cmd: string, args: ReadonlyArray<string>, env: Record<string, string>): DemoProcess => {
  const fd = openSync(logFile(name), "w");
  const child = spawn(cmd, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  let ended: string | undefined;
  child.on("error", (e) => (ended = e.message));
  child.on("exit", (code, signal) => (ended = signal !== null ? signal : `exit ${code ?? "?"}`));
  return { name, child, ended: () => ended };
};

/** A service through its real entry point, as deploy/ runs it. */
export const startService = (name: ServiceName, env: Record<string, string>): DemoProcess =>
  launch(
    name,
    process.execPath,
    [
      ...(name === "capture" ? captureNodeFlags : []),
      "--enable-source-maps",
      join("services", name, "dist", "main.js"),
    ],
    env,
  );

/** `args` inside network namespace `ns`. */
export const startInNetns = (name: string, ns: string, args: ReadonlyArray<string>): DemoProcess =>
  launch(name, "ip", ["netns", "exec", ns, ...args], {});

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

const signalGroup = (pgid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
};

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the whole group is gone. */
export const stopGroup = async (pgid: number, graceMs = 10_000): Promise<void> => {
  signalGroup(pgid, "SIGTERM");
  const end = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  signalGroup(pgid, "SIGKILL");
  while (groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
};

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
