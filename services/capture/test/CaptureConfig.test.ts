// Environment config: defaults, parsed filters, and errors that name the variable.
import * as ConfigProvider from "effect/ConfigProvider";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { captureConfig } from "../src/CaptureConfig.js";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { MemoryBus } from "@netpulse/runtime/bus/MemoryBus";
import { RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { shardOf } from "@netpulse/runtime/bus/shard";
import { Topics } from "@netpulse/runtime/topics";
import { makeFlowPublisher, pairKey } from "../src/BusSink.js";
import { rawFlow } from "../../../test/support/rawFlow.js";

const load = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(Effect.withConfigProvider(captureConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))),
  );

describe("capture config", () => {
  it("applies defaults and parses filters", () => {
    const r = load({
      NETPULSE_NODE_NAME: "n1",
      NETPULSE_CAPTURE_PORTS: "80, 443",
      NETPULSE_CAPTURE_CIDRS: "10.0.0.0/8,fd00::1",
    });
    expect(Either.isRight(r)).toBe(true);
    if (Either.isLeft(r)) return;
    expect(r.right.pipeline).toMatchObject({ node: "n1", activeTimeoutMs: 5000, maxFlows: 65536 });
    expect(r.right.pipeline.loader).toMatchObject({
      ports: [80, 443],
      cidrs: ["10.0.0.0/8", "fd00::1/128"],
      sampling: 1,
      mapSize: 65536,
    });
  });

  it.each([
    ["NETPULSE_CAPTURE_PORTS", "80,70000"],
    ["NETPULSE_CAPTURE_CIDRS", "10.0.0.0/33"],
    ["NETPULSE_CAPTURE_SAMPLING", "0"],
    ["NETPULSE_CAPTURE_ACTIVE_TIMEOUT_MS", "soon"],
    ["NETPULSE_METRICS_PORT", "70000"],
  ])("rejects %s=%s naming the variable", (name, value) => {
    const r = load({ [name]: value });
    expect(Either.isLeft(r)).toBe(true);
    if (Either.isRight(r)) return;
    expect(JSON.stringify(r.left)).toContain(name);
  });
});

describe("bus grouping", () => {
  it("sends one message per partition, each record on its pair's partition, both directions together", async () => {
    const f = (src: string, dst: string, i: number) => rawFlow({ flow_id: BigInt(i), src_ip: src, dst_ip: dst });
    const flows = Array.from({ length: 400 }, (_, i) =>
      i % 2 === 0 ? f(`10.0.${i % 50}.1`, "10.9.0.1", i) : f("10.9.0.1", `10.0.${(i - 1) % 50}.1`, i),
    );
    const messages = await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision({ topic: Topics.flowsRaw, partitions: 4, retentionMs: 60_000 });
        const publish = yield* makeFlowPublisher("capture/test");
        yield* publish(flows);
        return yield* MemoryBus.published(Topics.flowsRaw);
      }).pipe(Effect.provide(MemoryBus.layer)),
    );
    expect(messages.length).toBeLessThanOrEqual(4); // never one message per pair (50 pairs here)
    let total = 0;
    for (const m of messages) {
      const decoded = RawFlowCodec.decodeBatch(m.value);
      if (decoded._tag === "Left") throw new Error(decoded.left.message);
      total += decoded.right.records.length;
      expect(decoded.right.records.every((r) => shardOf(pairKey(r), 4) === m.partition)).toBe(true);
      expect(shardOf(m.key, 4)).toBe(m.partition);
    }
    expect(total).toBe(flows.length);
  });
});
