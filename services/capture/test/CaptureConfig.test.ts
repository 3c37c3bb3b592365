// Environment config: defaults, parsed filters, and errors that name the variable.
import { ConfigProvider, Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { captureConfig } from "../src/CaptureConfig.js";
import { groupByKey } from "../src/BusSink.js";
import type { RawFlow } from "@netpulse/runtime/records";

const load = (env: Record<string, string>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(captureConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))));

describe("capture config", () => {
  it("applies defaults and parses filters", () => {
    const r = load({ NETPULSE_NODE_NAME: "n1", NETPULSE_CAPTURE_PORTS: "80, 443", NETPULSE_CAPTURE_CIDRS: "10.0.0.0/8,fd00::1" });
    expect(Either.isRight(r)).toBe(true);
    if (Either.isLeft(r)) return;
    expect(r.right.pipeline).toMatchObject({ node: "n1", activeTimeoutMs: 5000, maxFlows: 65536 });
    expect(r.right.pipeline.loader).toMatchObject({ ports: [80, 443], cidrs: ["10.0.0.0/8", "fd00::1/128"], sampling: 1, mapSize: 65536 });
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
  it("groups a batch by the sorted IP pair, both directions together", () => {
    const f = (src: string, dst: string) => ({ src_ip: src, dst_ip: dst }) as RawFlow;
    const groups = groupByKey([f("10.0.0.1", "10.0.0.2"), f("10.0.0.2", "10.0.0.1"), f("10.0.0.3", "10.0.0.1")]);
    expect([...groups.keys()].sort()).toEqual(["10.0.0.1|10.0.0.2", "10.0.0.1|10.0.0.3"]);
    expect(groups.get("10.0.0.1|10.0.0.2")).toHaveLength(2);
  });
});
