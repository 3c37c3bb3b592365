// The whole chain as deployed, for the fault suite: enricher, detector and sink, each its own
// process through its real entry point, on a nats-server of the run's own (isolatedServices, so
// it can be restarted without touching the shared one) and a ClickHouse database of the run's
// own. kill -9 and restart of any service; every process ever started is reaped at the end.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ManagedRuntime from "effect/ManagedRuntime";
import { isolatedServices, repoRoot, type Isolated } from "../../../services/sink/test/harness.js";
import { busFromEnv } from "../../support/busHarness.js";
import { freePort, stopChild, until, type ServiceProcess } from "../../support/processes.js";
import { manifests, rules } from "./cluster.js";

export type ChainService = "enricher" | "detector" | "sink";

export const clickhouseUrl = process.env["NETPULSE_CLICKHOUSE_URL"] ?? "http://127.0.0.1:8123";

/**
 * A service through its real entry point, as ONE process: node with tsx as an import hook, not
 * the tsx command, which runs the service as a child of its own, so a SIGKILL would only kill
 * the wrapper and leave the service running (test/support/processes.ts startService).
 */
const startService = (name: ChainService, env: Record<string, string>): ServiceProcess => {
  let log = "";
  const child = spawn(process.execPath, ["--import", "tsx", `services/${name}/src/main.ts`], {
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

export class Chain {
  readonly node = `fault-${randomBytes(3).toString("hex")}`;
  readonly database = `netpulse_faults_${randomBytes(3).toString("hex")}`;
  readonly procs = new Map<ChainService, ServiceProcess>();
  readonly ports = new Map<ChainService, number>();
  /** Every process started, restarts included, for the final cleanup and for logs on failure. */
  readonly history: ServiceProcess[] = [];
  env: Record<string, string> = {};
  files = { manifests: "", rules: "" };
  services!: Isolated;
  runtime!: ManagedRuntime.ManagedRuntime<import("@netpulse/runtime/bus/Bus").Bus, unknown>;

  async up(): Promise<void> {
    this.services = await isolatedServices();
    this.services.up("nats");
    this.files = { manifests: join(this.services.dir, "cluster.yaml"), rules: join(this.services.dir, "rules.yaml") };
    writeFileSync(this.files.manifests, manifests(this.node));
    writeFileSync(this.files.rules, rules);
    this.env = { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: this.services.natsUrl };
    this.runtime = ManagedRuntime.make(busFromEnv(this.env));
    for (const s of ["enricher", "detector", "sink"] as const) this.ports.set(s, await freePort());
    await Promise.all((["sink", "detector", "enricher"] as const).map((s) => this.start(s)));
  }

  #envOf(s: ChainService): Record<string, string> {
    const port = String(this.ports.get(s));
    switch (s) {
      case "enricher":
        return { NETPULSE_MANIFESTS: this.files.manifests, NETPULSE_METRICS_PORT: port, NETPULSE_INSTANCE: "faults" };
      case "detector":
        return {
          NETPULSE_DETECTOR_MANIFESTS: this.files.manifests,
          NETPULSE_DETECTOR_RULES: this.files.rules,
          NETPULSE_DETECTOR_POLICIES: "kubernetes",
          NETPULSE_METRICS_PORT: port,
          NETPULSE_INSTANCE: "faults",
        };
      case "sink":
        return {
          NETPULSE_CLICKHOUSE_URL: clickhouseUrl,
          NETPULSE_CLICKHOUSE_DATABASE: this.database,
          NETPULSE_SINK_HTTP_PORT: port,
          NETPULSE_SINK_LINGER_MS: "200",
          // a killed sink's messages come back after this (the default 60 s only slows the test)
          NETPULSE_SINK_ACK_WAIT_MS: "10000",
        };
    }
  }

  /** Starts a service and waits for its /readyz. */
  async start(s: ChainService): Promise<void> {
    const p = startService(s, { ...this.env, ...this.#envOf(s) });
    this.procs.set(s, p);
    this.history.push(p);
    await until(
      `${s} ready`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`${s} exited ${p.child.exitCode}:\n${p.log().slice(-3000)}`);
        const r = await fetch(`http://127.0.0.1:${this.ports.get(s)}/readyz`);
        return r.status === 200;
      },
      120_000,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${p.log().slice(-3000)}`);
    });
  }

  /**
   * Stops the run's nats-server, leaves it down for `downMs` (publishers and consumers meet a
   * broker that is away), then starts it on the same data. Asynchronous, unlike
   * Isolated.down/up, so the test's own publisher keeps trying meanwhile.
   */
  async restartNats(downMs: number): Promise<void> {
    const script = join(repoRoot, "scripts/services.sh");
    const run = (action: string) =>
      new Promise<void>((resolve, reject) =>
        execFile(
          "bash",
          [script, action, "nats"],
          { env: { ...process.env, ...this.services.env }, timeout: 120_000 },
          (error, _out, err) => (error ? reject(new Error(`services.sh ${action} nats: ${err}`)) : resolve()),
        ),
      );
    await run("down");
    await new Promise((r) => setTimeout(r, downMs));
    await run("up");
  }

  /**
   * SIGKILL, no goodbye: un-acked messages stay with the broker. At a steady trickle a service is
   * idle nearly all the time, so a kill at a random moment would almost never land while a
   * message is between "taken" and "done". So the service is first frozen (SIGSTOP) for
   * `frozenMs` while the stream goes on, then let go (SIGCONT) and killed `afterMs` into draining
   * that backlog, when it has work in every step at once.
   */
  async kill9(s: ChainService, frozenMs: number, afterMs: number): Promise<void> {
    const p = this.procs.get(s)!;
    const gone = new Promise<void>((r) => p.child.once("exit", () => r()));
    p.child.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, frozenMs));
    p.child.kill("SIGCONT");
    await new Promise((r) => setTimeout(r, afterMs));
    p.child.kill("SIGKILL");
    await gone;
  }

  /** Whether every service started is still running (none crashed on its own). */
  crashed(): string[] {
    return [...this.procs.values()]
      .filter((p) => p.child.exitCode !== null || p.child.signalCode !== null)
      .map((p) => `${p.name} exited ${p.child.exitCode ?? p.child.signalCode}: ${p.log().slice(-2000)}`);
  }

  logs(): string {
    return [...this.procs.values()].map((p) => `--- ${p.name}\n${p.log().slice(-4000)}`).join("\n");
  }

  async down(): Promise<void> {
    await Promise.all(this.history.map((p) => stopChild(p.child, 5_000)));
    await this.runtime?.dispose().catch(() => undefined);
    this.services?.cleanup();
  }
}
