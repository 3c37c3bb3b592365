// The capture service end to end: real kernel, real nats-server. Connections between two
// namespaces must come out of netpulse.flows.raw as RawFlow batches keyed by the sorted IP pair,
// a heartbeat must arrive on netpulse.heartbeats, and /metrics + /readyz must answer.
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./support/processes.js";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { HeartbeatCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { flowKey } from "@netpulse/runtime/flowKey";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import type { RawFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { pipelineSettings } from "../services/capture/src/CaptureConfig.js";
import { runCapture } from "../services/capture/src/CaptureService.js";
import { defaultLoaderPath, Loader } from "../services/capture/src/LoaderProcess.js";
import { bpfUnavailable, lineFrom, NetnsPair } from "./capture-netns.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture service test: BPF unavailable (${unavailable}) ***\n`);
}

const natsUrl = process.env["NETPULSE_NATS_URL"] ?? "nats://127.0.0.1:4222";
const PORT = 7200;
const CONNECTIONS = 20;
const node = `svc-test-${process.pid}`;
const pair = new NetnsPair();
const busLayer = NatsBus.layer({ _tag: "nats", url: natsUrl, name: "netpulse-capture-test" });

const replay = <T>(topic: string, fromMs: number, decode: (b: Buffer) => readonly T[]) =>
  Effect.runPromise(
    Effect.flatMap(Bus, (bus) =>
      bus.replay(topic, { _tag: "Time", fromMs }).pipe(
        Stream.runCollect,
        Effect.map((msgs) => [...msgs].flatMap((m) => decode(m.value).map((r) => ({ key: m.key, r })))),
      ),
    ).pipe(Effect.provide(busLayer)),
  );

describe.skipIf(unavailable !== undefined)("capture service with NATS", () => {
  let fiber: Fiber.RuntimeFiber<void, unknown> | undefined;
  const stop = Effect.runSync(Deferred.make<void>());
  let metricsPort = 0;
  const startMs = Date.now();

  beforeAll(async () => {
    pair.up();
    const server = pair.peer(pair.server, "server", [PORT]);
    await lineFrom(server, "listening");
    metricsPort = await freePort();
    const settings = {
      heartbeatMs: 300,
      metricsPort,
      sched: "normal" as const, // runCapture leaves the policy alone (main.ts sets it); this is the test's own process
      pipeline: pipelineSettings({
        node,
        binary: defaultLoaderPath(),
        ports: [PORT],
        cidrs: [pair.cidr],
        sampling: 1,
        activeTimeoutMs: 1_000,
        maxFlows: 4096,
      }),
    };
    fiber = Effect.runFork(
      runCapture(settings, Deferred.await(stop)).pipe(
        Effect.provide(Layer.mergeAll(busLayer, Metrics.layerTest, Loader.layer)),
        Effect.scoped,
      ),
    );
    const t0 = Date.now();
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() - t0 > 20_000) throw new Error("capture service not ready within 20 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    try {
      if (fiber !== undefined && fiber.unsafePoll() === null) await Effect.runPromise(Fiber.interrupt(fiber));
    } finally {
      await pair.down();
    }
  });

  it("publishes every connection as RawFlow batches keyed by the IP pair, plus heartbeats and metrics", async () => {
    const churn = pair.peer(pair.client, "churn", [pair.serverIp, PORT, CONNECTIONS, "4"]);
    const ports = await lineFrom(churn, "ports");
    const decodeFlows = (b: Buffer): readonly RawFlow[] => {
      const d = RawFlowCodec.decodeBatch(b);
      return d._tag === "Right" ? d.right.records.filter((f) => f.node === node) : [];
    };
    let flows: { key: string; r: RawFlow }[] = [];
    const t0 = Date.now();
    while (flows.filter((f) => f.r.state === "CLOSE").length < 2 * CONNECTIONS && Date.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 500));
      flows = await replay(Topics.flowsRaw, startMs, decodeFlows);
    }
    const closed = flows.filter((f) => f.r.state === "CLOSE");
    expect(new Set(closed.filter((f) => f.r.direction === "client").map((f) => String(f.r.src_port)))).toEqual(
      new Set(ports),
    );
    expect(closed.filter((f) => f.r.direction === "server")).toHaveLength(CONNECTIONS);
    expect(flows.every((f) => f.key === flowKey(pair.clientIp, pair.serverIp))).toBe(true);
    expect(closed.every((f) => f.r.bytes_sent === 100n && f.r.bytes_received === 100n)).toBe(true);

    const beats = await replay(Topics.heartbeats, startMs, (b) => {
      const d = HeartbeatCodec.decodeBatch(b);
      return d._tag === "Right" ? d.right.records.filter((h) => h.node === node) : [];
    });
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.at(-1)?.r).toMatchObject({ dropped_ringbuf: 0n, dropped_queue: 0n, sampling: 1 });
    expect(beats.at(-1)?.r.conntrack_max).not.toBe(0n);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/netpulse_capture_flows_published \d+/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
  });

  it("on stop, drains: a still-open connection's last window reaches the bus", async () => {
    const client = pair.peer(pair.client, "client", [pair.serverIp, PORT, "50000", "2000"]);
    const [lport] = await lineFrom(client, "ready");
    Effect.runSync(Deferred.succeed(stop, undefined));
    const exit = await Effect.runPromise(Fiber.await(fiber!));
    expect(Exit.isSuccess(exit)).toBe(true);
    const flows = await replay(Topics.flowsRaw, startMs, (b) => {
      const d = RawFlowCodec.decodeBatch(b);
      return d._tag === "Right" ? d.right.records.filter((f) => f.node === node && String(f.src_port) === lport) : [];
    });
    const client_ = flows.filter((f) => f.r.direction === "client").map((f) => f.r);
    expect(client_.reduce((a, f) => a + f.bytes_sent, 0n)).toBe(50_000n);
    expect(client_.at(-1)).toMatchObject({ close_reason: "open", state: "ESTABLISHED" });
  });
});
