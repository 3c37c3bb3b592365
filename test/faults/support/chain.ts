// The whole chain as deployed, for the fault suite: enricher, detector and sink, each its own
// process through its real entry point, on a broker of the run's own — a nats-server or a Kafka
// broker (isolatedServices, so it can be restarted without touching the shared one) — and a
// ClickHouse server of the run's own (so it can be stopped too). The enricher and detector read
// the cluster from manifest files, or, given a kubeconfig, from informers against an API server.
// kill -9 and restart of any service, a broker or ClickHouse stopped and started again; every
// process ever started is reaped at the end.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ManagedRuntime from "effect/ManagedRuntime";
import { isolatedServices, repoRoot, type Isolated } from "../../../services/sink/test/harness.js";
import { busFromEnv } from "../../support/busHarness.js";
import { startChainService, waitReady, type ChainService } from "../../support/chainProcesses.js";
import { freePort, stopChild, type ServiceProcess } from "../../support/processes.js";
import { manifests, rules } from "./cluster.js";

export type { ChainService };
export type ChainBus = "nats" | "kafka";

export interface ChainOptions {
  readonly bus: ChainBus;
  /** The enricher and detector watch this API server (informers) instead of reading manifest files. */
  readonly kubeconfig?: string;
}

export class Chain {
  constructor(readonly options: ChainOptions) {}

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

  get bus(): ChainBus {
    return this.options.bus;
  }

  get clickhouseUrl(): string {
    return this.services.clickhouseUrl;
  }

  async up(): Promise<void> {
    this.services = await isolatedServices();
    this.services.up(this.bus);
    this.services.up("clickhouse");
    this.files = { manifests: join(this.services.dir, "cluster.yaml"), rules: join(this.services.dir, "rules.yaml") };
    writeFileSync(this.files.manifests, manifests(this.node));
    writeFileSync(this.files.rules, rules);
    this.env =
      this.bus === "nats"
        ? { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: this.services.natsUrl }
        : { NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: this.services.kafkaBrokers };
    this.runtime = ManagedRuntime.make(busFromEnv(this.env));
    for (const s of ["enricher", "detector", "sink"] as const) this.ports.set(s, await freePort());
    await Promise.all((["sink", "detector", "enricher"] as const).map((s) => this.start(s)));
  }

  #envOf(s: ChainService): Record<string, string> {
    const port = String(this.ports.get(s));
    const kube = this.options.kubeconfig;
    switch (s) {
      case "enricher":
        return {
          ...(kube === undefined
            ? { NETPULSE_MANIFESTS: this.files.manifests }
            : {
                NETPULSE_KUBECONFIG: kube,
                NETPULSE_INFORMER_BACKOFF_MS: "100",
                NETPULSE_INFORMER_BACKOFF_MAX_MS: "1000",
              }),
          NETPULSE_METRICS_PORT: port,
          NETPULSE_INSTANCE: "faults",
        };
      case "detector":
        return {
          ...(kube === undefined
            ? { NETPULSE_DETECTOR_MANIFESTS: this.files.manifests }
            : { NETPULSE_KUBECONFIG: kube }),
          NETPULSE_DETECTOR_RULES: this.files.rules,
          NETPULSE_DETECTOR_POLICIES: "kubernetes",
          NETPULSE_METRICS_PORT: port,
          NETPULSE_INSTANCE: "faults",
        };
      case "sink":
        return {
          NETPULSE_CLICKHOUSE_URL: this.clickhouseUrl,
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
    const p = startChainService(s, { ...this.env, ...this.#envOf(s) });
    this.procs.set(s, p);
    this.history.push(p);
    await waitReady(p, this.ports.get(s)!);
  }

  /**
   * scripts/services.sh for the run's own servers. Asynchronous, unlike Isolated.down/up, so the
   * test's own publisher and samplers keep running meanwhile.
   */
  server(action: "up" | "down", name: ChainBus | "clickhouse"): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      execFile(
        "bash",
        [join(repoRoot, "scripts/services.sh"), action, name],
        { env: { ...process.env, ...this.services.env }, timeout: 180_000 },
        (error, _out, err) => (error ? reject(new Error(`services.sh ${action} ${name}: ${err}`)) : resolve()),
      ),
    );
  }

  /**
   * Stops the run's broker, leaves it down for `downMs` (publishers and consumers meet a broker
   * that is away), then starts it on the same data (JetStream store, Kafka log segments).
   */
  async restartBroker(downMs: number): Promise<void> {
    await this.server("down", this.bus);
    await new Promise((r) => setTimeout(r, downMs));
    await this.server("up", this.bus);
  }

  /** The pid of a running service, for /proc. */
  pid(s: ChainService): number {
    return this.procs.get(s)!.child.pid!;
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
    const t = Date.now();
    await Promise.all(this.history.map((p) => stopChild(p.child, 5_000)));
    const services = Date.now() - t;
    await this.runtime?.dispose().catch(() => undefined);
    console.log(
      `[faults ${this.bus}] services stopped in ${services} ms, bus client closed in ${Date.now() - t - services} ms`,
    );
    // the run's own servers and their state go next: no clean shutdown to wait for (ClickHouse
    // and the Kafka broker take up to half a minute for one)
    for (const name of [this.bus, "clickhouse"] as const) {
      try {
        process.kill(this.services.pid(name), "SIGKILL");
      } catch {
        // not running
      }
    }
    const c = Date.now();
    this.services?.cleanup();
    console.log(`[faults ${this.bus}] servers removed in ${Date.now() - c} ms`);
  }
}
