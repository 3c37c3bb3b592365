// A private 3-node cluster for a test file: `scripts/services.sh up --cluster <kind>` in a state
// dir of its own (mkdtemp) on free ports, so it never meets the shared single servers or the
// developer's own cluster. A node can be killed -9 (its pid from the node's pidfile) and brought
// back (`up --cluster` starts only the missing nodes). Files left by an interrupted run (its test
// process gone) are stopped and removed by the next one.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../../services/sink/test/harness.js";
import { freePort } from "../../support/processes.js";

export type ClusterKind = "nats" | "kafka";
export const NODES = [1, 2, 3] as const;
const PREFIX = "netpulse-cluster-";
const script = join(repoRoot, "scripts/services.sh");

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

const run = (env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile("bash", [script, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`services.sh ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`))
        : resolve(stdout),
    ),
  );

/** Stops the clusters of earlier runs whose test process is gone (an interrupted run skips afterAll). */
const reapLeftovers = async (): Promise<void> => {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(existsSync(join(dir, "owner")) ? readFileSync(join(dir, "owner"), "utf8").trim() : "0");
    if (owner !== 0 && alive(owner)) continue;
    await run({ ...process.env, NETPULSE_SERVICES_DIR: dir }, "down", "--cluster").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
};

export class LocalCluster {
  readonly dir: string;
  /** NETPULSE_SERVICES_DIR and the per-node port variables scripts/services.sh reads. */
  readonly scriptEnv: Record<string, string> = {};
  /** Client ports of nodes 1..3. */
  readonly ports: number[] = [];
  readonly monitorPorts: number[] = [];

  private constructor(readonly kind: ClusterKind) {
    this.dir = mkdtempSync(join(tmpdir(), PREFIX));
    writeFileSync(join(this.dir, "owner"), `${process.pid}\n`);
    this.scriptEnv["NETPULSE_SERVICES_DIR"] = this.dir;
  }

  static async start(kind: ClusterKind): Promise<LocalCluster> {
    await reapLeftovers();
    const c = new LocalCluster(kind);
    const K = kind.toUpperCase();
    for (const i of NODES) {
      const port = await freePort();
      c.ports.push(port);
      c.scriptEnv[`NETPULSE_${K}_CLUSTER_PORT_${i}`] = String(port);
      if (kind === "nats") {
        const monitor = await freePort();
        c.monitorPorts.push(monitor);
        c.scriptEnv[`NETPULSE_NATS_CLUSTER_ROUTE_PORT_${i}`] = String(await freePort());
        c.scriptEnv[`NETPULSE_NATS_CLUSTER_MONITOR_PORT_${i}`] = String(monitor);
      } else {
        c.scriptEnv[`NETPULSE_KAFKA_CLUSTER_CONTROLLER_PORT_${i}`] = String(await freePort());
      }
    }
    const t0 = Date.now();
    const out = await c.up();
    console.log(`[clusters] ${kind} cluster of 3 up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${c.dir})`);
    if (!out.includes(`NETPULSE_BUS_REPLICAS=3`)) throw new Error(`services.sh up --cluster printed no env:\n${out}`);
    return c;
  }

  /** nats://a,nats://b,nats://c or host:port,host:port,host:port. */
  get urls(): string {
    return this.ports.map((p) => (this.kind === "nats" ? `nats://127.0.0.1:${p}` : `127.0.0.1:${p}`)).join(",");
  }

  /** What a service needs to use the cluster, as `services.sh up --cluster` prints it. */
  get busEnv(): Record<string, string> {
    return this.kind === "nats"
      ? { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: this.urls, NETPULSE_BUS_REPLICAS: "3" }
      : { NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: this.urls, NETPULSE_BUS_REPLICAS: "3" };
  }

  #env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.scriptEnv };
  }

  /** Starts the nodes that are not running; resolves once each serves and sees the others. */
  up(): Promise<string> {
    return run(this.#env(), "up", "--cluster", this.kind);
  }

  status(): Promise<string> {
    return run(this.#env(), "status", "--cluster", this.kind).catch((e: unknown) => String(e));
  }

  pid(node: number): number {
    return Number(readFileSync(join(this.dir, "cluster", `${this.kind}-${node}`, "pid"), "utf8").trim());
  }

  /** kill -9 of node `node` (1..3); resolves once the process is gone. */
  async kill9(node: number): Promise<number> {
    const pid = this.pid(node);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    return pid;
  }

  async down(): Promise<void> {
    await run(this.#env(), "down", "--cluster", this.kind).catch((e: unknown) => console.error(String(e)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
