// The enricher service as deployed: its real entry point (services/enricher/src/main.ts through
// tsx) with informers on the local list/watch server, on each bus: a real nats-server of its own
// and a real Kafka broker of its own (random ports, temp dirs, so no other test's topics are
// touched). Raw batches in, enriched batches and a dead letter out; pod churn seen through the
// informers changes the answer by flow start time.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as ConfigError from "effect/ConfigError";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as ManagedRuntime from "effect/ManagedRuntime";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepts, freePort, stopChild as stop, until } from "./support/processes.js";
import { Bus, type BusError } from "@netpulse/runtime/bus/Bus";
import { DeadLetterCodec, EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { workloadPairKey } from "@netpulse/runtime/flowKey";
import type { EnrichedFlow, RawFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { rawFlow } from "./support/rawFlow.js";
import { FakeKubeApi } from "./support/fakeKubeApi.js";
import { busFromEnv, takeWithin, uniqueGroup, type BrokerKind } from "./support/busHarness.js";
import { isolatedServices, type Isolated } from "../services/sink/test/harness.js";
import * as k from "./support/kubeObjects.js";

describe.each<BrokerKind>(["nats", "kafka"])("enricher service end to end on %s", (kind) => {
  const dir = mkdtempSync(join(tmpdir(), "netpulse-enricher-e2e-"));
  let api: FakeKubeApi;
  let nats: ChildProcess | undefined;
  let kafka: Isolated | undefined;
  let enricher: ChildProcess | undefined;
  let enricherLog = "";
  let metricsPort = 0;
  let runtime: ManagedRuntime.ManagedRuntime<Bus, BusError | ConfigError.ConfigError>;
  const run = <A, E>(effect: Effect.Effect<A, E, Bus>) => runtime.runPromise(effect);
  const oldPod = k.pod("shop", "api-old", { ip: "10.4.0.7", owner: { kind: "ReplicaSet", name: "api-5d" } });

  beforeAll(async () => {
    let busEnv: Record<string, string>;
    if (kind === "nats") {
      const natsPort = await freePort();
      nats = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", join(dir, "js")], {
        stdio: "ignore",
      });
      await until("nats-server", () => accepts(natsPort));
      busEnv = { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: `nats://127.0.0.1:${natsPort}` };
    } else {
      kafka = await isolatedServices();
      kafka.up("kafka");
      busEnv = { NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: kafka.kafkaBrokers };
    }

    api = await FakeKubeApi.start();
    api.apply(k.replicaSet("shop", "api-5d", "api"));
    api.apply(oldPod);
    api.apply(k.service("shop", "db", "10.96.0.9"));
    api.apply(k.node("node-a", "192.168.0.10"));
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, api.kubeConfigYaml());

    metricsPort = await freePort();
    enricher = spawn("node_modules/.bin/tsx", ["--tsconfig", "tsconfig.eslint.json", "services/enricher/src/main.ts"], {
      env: {
        ...process.env,
        ...busEnv,
        NETPULSE_KUBECONFIG: kubeconfig,
        NETPULSE_METRICS_PORT: String(metricsPort),
        NETPULSE_EXTERNAL_CIDRS: "internet=0.0.0.0/0",
        NETPULSE_INSTANCE: "e2e",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    enricher.stdout?.on("data", (d: Buffer) => (enricherLog += d.toString()));
    enricher.stderr?.on("data", (d: Buffer) => (enricherLog += d.toString()));
    await until("enricher ready", async () => {
      if (enricher?.exitCode !== null) throw new Error(`enricher exited: ${enricherLog}`);
      const r = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
      return r?.status === 200;
    });
    runtime = ManagedRuntime.make(busFromEnv(busEnv));
  }, 180_000);

  afterAll(async () => {
    await runtime?.dispose();
    await stop(enricher);
    await stop(nats);
    kafka?.cleanup();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const publishRaw = (flows: RawFlow[], key: string) =>
    run(
      Effect.flatMap(Bus, (bus) =>
        bus.publish(Topics.flowsRaw, [
          { key, value: RawFlowCodec.encodeBatch(flows, { producer: "capture/e2e", sequence: 0n }) },
        ]),
      ),
    );

  const take = (topic: string, group: string, n: number) =>
    run(
      Effect.flatMap(Bus, (bus) =>
        takeWithin(bus.consume(topic, { group }).pipe(Stream.tap((d) => d.ack)), n, "60 seconds"),
      ),
    );

  /**
   * Enriched records of the next `n`, taken message by message: the enricher splits a batch by
   * workload pair, so its records may come as several messages, each keyed by its pair.
   */
  const takeRecords = async (group: string, n: number) => {
    const records: EnrichedFlow[] = [];
    while (records.length < n) {
      const [m] = await take(Topics.flowsEnriched, group, 1);
      const batch = Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m!.value));
      expect(batch.header.producer).toBe("enricher/e2e");
      for (const r of batch.records) expect(workloadPairKey(r)).toBe(m!.key);
      records.push(...batch.records);
    }
    return records;
  };

  it("enriches raw batches from the bus, dead-letters a corrupt one, follows pod churn", async () => {
    const group = uniqueGroup("e2e-enriched");
    await publishRaw(
      [rawFlow({ src_ip: "10.4.0.7", dst_ip: "10.96.0.9" }), rawFlow({ src_ip: "192.168.0.10", dst_ip: "8.8.8.8" })],
      "k1",
    );
    await run(
      Effect.flatMap(Bus, (bus) => bus.publish(Topics.flowsRaw, [{ key: "k-bad", value: Buffer.from("garbage") }])),
    );

    const first = await takeRecords(group, 2);
    const bySrc = (ip: string) => first.find((r) => r.src_ip === ip);
    expect(bySrc("10.4.0.7")).toMatchObject({
      src: { kind: "pod", pod: "api-old", workload_kind: "Deployment", workload_name: "api" },
      dst: { kind: "service", service: "db" },
    });
    expect(bySrc("192.168.0.10")).toMatchObject({
      src: { kind: "node", node: "node-a" },
      dst: { kind: "external", external_name: "internet" },
    });

    const [letter] = await take(Topics.dlq, uniqueGroup("e2e-dlq"), 1);
    expect(Either.getOrThrow(DeadLetterCodec.decode(letter!.value))).toMatchObject({
      topic: Topics.flowsRaw,
      stage: "enricher",
      key: Buffer.from("k-bad"),
    });

    // Churn through the informers: the pod goes, a new one takes its IP.
    const deletedAt = Date.now();
    api.delete(oldPod);
    await new Promise((r) => setTimeout(r, 300));
    api.apply(k.pod("shop", "api-new", { ip: "10.4.0.7", created: new Date().toISOString() }));
    await new Promise((r) => setTimeout(r, 500));
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    await publishRaw(
      [
        rawFlow({ src_ip: "10.4.0.7", start_ns: ns(deletedAt - 3000), end_ns: ns(deletedAt - 1000) }),
        rawFlow({ src_ip: "10.4.0.7", start_ns: ns(Date.now()), end_ns: ns(Date.now() + 1) }),
      ],
      "k2",
    );
    const churned = await takeRecords(group, 2);
    expect(churned.map((r) => r.src.pod).sort()).toEqual(["api-new", "api-old"]);
    // each answered by its own start time: the late flow by the old pod
    expect(churned.find((r) => r.src.pod === "api-old")!.start_ns).toBe(ns(deletedAt - 3000));

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/netpulse_enricher_ends_total\{kind="pod"\} [3-9]/);
    expect(metrics).toMatch(/netpulse_dlq_total\{stage="enricher",reason="garbage"\} 1/);
  });
});
