// Two network namespaces joined by a veth pair, for the capture e2e tests: unique names per run,
// addresses in 10.200.<n>.0/24 that exist only inside them, HTB delay and nft receiver-side loss.
// Also runs the real capture pipeline against them and decides whether BPF is usable at all.
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Stream from "effect/Stream";
import type { RawFlow } from "@netpulse/runtime/records";
import { capturePipeline } from "../services/capture/src/CapturePipeline.js";
import { pipelineSettings } from "../services/capture/src/CaptureConfig.js";
import { CaptureStats } from "../services/capture/src/CaptureStats.js";
import { defaultLoaderPath, Loader } from "../services/capture/src/LoaderProcess.js";

export const peersScript = fileURLToPath(new URL("./capture-peers.py", import.meta.url));
const bpfDir = fileURLToPath(new URL("../bpf", import.meta.url));

const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Why BPF capture can't run here, or undefined when it can (loader built and loads). */
export const bpfUnavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return "not root";
  try {
    execFileSync("make", ["-s", "-C", bpfDir], { stdio: "pipe" });
    execFileSync(defaultLoaderPath(), ["--duration-ms", "10"], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return (err.stderr?.toString().trim() || err.message).split("\n").pop();
  }
};

export class NetnsPair {
  readonly id = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  readonly subnet = 1 + Math.floor(Math.random() * 250);
  readonly client = `npc${this.id}`;
  readonly server = `nps${this.id}`;
  readonly clientIf = `vc${this.id}`;
  readonly serverIf = `vs${this.id}`;
  readonly clientIp = `10.200.${this.subnet}.1`;
  readonly serverIp = `10.200.${this.subnet}.2`;
  readonly cidr = `10.200.${this.subnet}.0/24`;
  readonly clientIp6 = `fd00:200:${this.subnet.toString(16)}::1`;
  readonly serverIp6 = `fd00:200:${this.subnet.toString(16)}::2`;
  readonly cidr6 = `fd00:200:${this.subnet.toString(16)}::/64`;
  private readonly children: ChildProcessWithoutNullStreams[] = [];
  private readonly cgroups: string[] = [];

  up(): void {
    sh("ip", ["netns", "add", this.client]);
    sh("ip", ["netns", "add", this.server]);
    sh("ip", [
      "link",
      "add",
      this.clientIf,
      "netns",
      this.client,
      "type",
      "veth",
      "peer",
      "name",
      this.serverIf,
      "netns",
      this.server,
    ]);
    for (const [ns, dev, ip, ip6] of [
      [this.client, this.clientIf, this.clientIp, this.clientIp6],
      [this.server, this.serverIf, this.serverIp, this.serverIp6],
    ] as const) {
      this.exec(ns, ["ip", "addr", "add", `${ip}/24`, "dev", dev]);
      this.exec(ns, ["ip", "-6", "addr", "add", `${ip6}/64`, "dev", dev, "nodad"]);
      this.exec(ns, ["ip", "link", "set", dev, "up"]);
      this.exec(ns, ["ip", "link", "set", "lo", "up"]);
      // steadier RTT under HTB: no segmentation offloads
      this.exec(ns, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"]);
    }
  }

  exec(ns: string, args: string[]): string {
    return sh("ip", ["netns", "exec", ns, ...args]);
  }

  /** Like exec, without blocking the event loop (the capture reads its loader meanwhile). */
  execAsync(ns: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("ip", ["netns", "exec", ns, ...args], { encoding: "utf8", maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
      );
    });
  }

  netnsInode(ns: string): number {
    return statSync(`/run/netns/${ns}`).ino;
  }

  /** Queueing delay on the client's egress: an HTB rate limit. */
  shape(rate: string): void {
    this.exec(this.client, [
      "tc",
      "qdisc",
      "replace",
      "dev",
      this.clientIf,
      "root",
      "handle",
      "1:",
      "htb",
      "default",
      "10",
    ]);
    this.exec(this.client, [
      "tc",
      "class",
      "add",
      "dev",
      this.clientIf,
      "parent",
      "1:",
      "classid",
      "1:10",
      "htb",
      "rate",
      rate,
    ]);
  }

  unshape(): void {
    this.exec(this.client, ["tc", "qdisc", "del", "dev", this.clientIf, "root"]);
  }

  /** nft at the RECEIVER (server input): drop `percent` % of segments to `port`, or SYNs only. */
  drop(port: number, how: { percent: number } | "syn"): void {
    const match =
      how === "syn"
        ? ["tcp", "flags", "&", "(syn|ack)", "==", "syn", "counter", "drop"]
        : ["numgen", "random", "mod", "100", "<", String(how.percent), "counter", "drop"];
    this.exec(this.server, ["nft", "add", "table", "inet", "nptest"]);
    this.exec(this.server, [
      "nft",
      "add",
      "chain",
      "inet",
      "nptest",
      "input",
      "{ type filter hook input priority 0; }",
    ]);
    this.exec(this.server, ["nft", "add", "rule", "inet", "nptest", "input", "tcp", "dport", String(port), ...match]);
  }

  /** Packets the drop rule has dropped so far. */
  dropped(): number {
    const text = this.exec(this.server, ["nft", "list", "chain", "inet", "nptest", "input"]);
    return Number(/counter packets (\d+)/.exec(text)?.[1] ?? "0");
  }

  undrop(): void {
    this.exec(this.server, ["nft", "delete", "table", "inet", "nptest"]);
  }

  /** A fresh cgroup v2 child (removed in down()) and its id, or undefined without cgroup v2. */
  cgroup(name: string): { path: string; id: number } | undefined {
    const mount = readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" "))
      .find((f) => f[2] === "cgroup2")?.[1];
    if (mount === undefined) return undefined;
    const path = `${mount}/netpulse-test-${this.id}-${name}`;
    mkdirSync(path);
    this.cgroups.push(path);
    return { path, id: statSync(path).ino };
  }

  /** A long-running process inside `ns` (and cgroup `cgroupPath` if given); killed in down(). */
  /** One of test/capture-peers.py's modes (server, client, connect, paced, churn) inside `ns`. */
  peer(ns: string, mode: string, args: ReadonlyArray<string | number>, cgroupPath?: string) {
    return this.spawn(ns, ["python3", peersScript, mode, ...args.map(String)], cgroupPath);
  }

  spawn(ns: string, args: string[], cgroupPath?: string): ChildProcessWithoutNullStreams {
    const argv = ["ip", "netns", "exec", ns, ...args];
    const child =
      cgroupPath === undefined
        ? spawn(argv[0] ?? "ip", argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
        : spawn("sh", ["-c", `echo $$ > ${cgroupPath}/cgroup.procs && exec "$@"`, "sh", ...argv], {
            stdio: ["pipe", "pipe", "pipe"],
          });
    child.on("error", () => undefined);
    child.stdin.on("error", () => undefined);
    this.children.push(child);
    return child;
  }

  async down(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    const running = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(running.map((c) => new Promise((r) => c.once("close", r))));
    for (const path of this.cgroups) {
      try {
        rmdirSync(path);
      } catch {
        // still busy: left for the next boot rather than failing the run
      }
    }
    for (const ns of [this.client, this.server]) {
      try {
        sh("ip", ["netns", "del", ns]);
      } catch {
        // already gone
      }
    }
  }
}

/** Resolves with the first stdout line matching `prefix`, split into words. */
export const lineFrom = (
  child: ChildProcessWithoutNullStreams,
  prefix: string,
  timeoutMs = 60_000,
): Promise<string[]> =>
  new Promise((resolve, reject) => {
    let buf = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; stderr: ${err}`)),
      timeoutMs,
    );
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const onData = (d: Buffer) => {
      buf += d.toString();
      const complete = buf.split("\n").slice(0, -1); // only whole lines
      for (const line of complete) {
        if (line.startsWith(prefix)) {
          clearTimeout(timer);
          child.stdout.off("data", onData);
          resolve(line.trim().split(/\s+/).slice(1));
          return;
        }
      }
    };
    child.stdout.on("data", onData);
  });

/** The real capture pipeline in the background; stop() drains the loader and returns every flow. */
export interface CaptureKnobs {
  readonly activeTimeoutMs?: number;
  readonly sampling?: number;
  readonly ports?: ReadonlyArray<number>;
}

export const startCapture = async (cidr: string | ReadonlyArray<string>, knobs: CaptureKnobs = {}) => {
  const stats = new CaptureStats();
  const stopSignal = Effect.runSync(Deferred.make<void>());
  const settings = pipelineSettings({
    node: "e2e",
    binary: defaultLoaderPath(),
    ports: knobs.ports ?? [],
    cidrs: typeof cidr === "string" ? [cidr] : cidr,
    sampling: knobs.sampling ?? 1,
    activeTimeoutMs: knobs.activeTimeoutMs ?? 5_000,
    maxFlows: 65_536,
  });
  const flows: RawFlow[] = [];
  const fiber = Effect.runFork(
    capturePipeline({ ...settings, loader: { ...settings.loader, stop: Deferred.await(stopSignal) } }, stats).pipe(
      Stream.runForEach((f) => Effect.sync(() => void flows.push(f))),
      Effect.provide(Loader.layer),
    ),
  );
  const t0 = Date.now();
  while (stats.lastStatsNs === 0n) {
    if (Date.now() - t0 > 20_000) throw new Error("capture did not start within 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    stats,
    flows,
    stop: async (): Promise<RawFlow[]> => {
      Effect.runSync(Deferred.succeed(stopSignal, undefined));
      await Effect.runPromise(Fiber.join(fiber));
      return flows;
    },
  };
};

/** `ss -tin` for the connection on local port `lport` inside `ns`: the kernel's own numbers. */
export const ssInfo = (pair: NetnsPair, ns: string, lport: number) => {
  const text = pair.exec(ns, ["ss", "-tinH", "state", "all", `( sport = :${lport} or dport = :${lport} )`]);
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? "NaN");
  return {
    text,
    rttMs: num(/\brtt:([\d.]+)\//),
    bytesSent: num(/\bbytes_sent:(\d+)/) || 0,
    bytesRetrans: num(/\bbytes_retrans:(\d+)/) || 0,
    bytesAcked: num(/\bbytes_acked:(\d+)/) || 0,
    bytesReceived: num(/\bbytes_received:(\d+)/) || 0,
    retransTotal: Number(/\bretrans:\d+\/(\d+)/.exec(text)?.[1] ?? "0"),
  };
};
