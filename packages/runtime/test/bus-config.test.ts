// Bus settings from the environment: defaults, both brokers, and failures that name the variable.
import * as Cause from "effect/Cause";
import * as ConfigProvider from "effect/ConfigProvider";
import * as Effect from "effect/Effect";
import * as Redacted from "effect/Redacted";
import { describe, expect, it } from "vitest";
import { busSettings, describeSettings, redactUrl } from "@netpulse/runtime/bus/BusConfig";
import { groupTiming } from "@netpulse/runtime/bus/kafka/consume";

const read = (env: Record<string, string>) =>
  Effect.runPromise(
    busSettings.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))), Effect.either),
  );

describe("bus config", () => {
  it("defaults to NATS on the loopback", async () => {
    const r = await read({});
    expect(r._tag === "Right" && r.right).toEqual({ _tag: "nats", url: "nats://127.0.0.1:4222" });
  });

  it("reads NATS credentials as secrets that never print", async () => {
    const r = await read({
      NETPULSE_NATS_USER: "np",
      NETPULSE_NATS_PASSWORD: "s3cret-pw",
      NETPULSE_NATS_TLS_CA: "/ca.pem",
    });
    if (r._tag !== "Right" || r.right._tag !== "nats") throw new Error("expected nats settings");
    expect(Redacted.value(r.right.password!)).toBe("s3cret-pw");
    expect(r.right.tls).toEqual({ caFile: "/ca.pem" });
    const shown = `${describeSettings(r.right)} ${JSON.stringify(r.right.password)} ${Redacted.isRedacted(r.right.password) ? "<redacted>" : "?"} ${JSON.stringify(r.right)}`;
    expect(shown).not.toContain("s3cret-pw");
    expect(describeSettings(r.right)).toContain("user:np");
  });

  it("reads Kafka brokers, SASL and TLS", async () => {
    const r = await read({
      NETPULSE_BUS: "kafka",
      NETPULSE_KAFKA_BROKERS: "a:9092, b:9093",
      NETPULSE_KAFKA_SASL_MECHANISM: "scram-sha-512",
      NETPULSE_KAFKA_USERNAME: "np",
      NETPULSE_KAFKA_PASSWORD: "pw-kafka",
      NETPULSE_KAFKA_TLS: "true",
    });
    if (r._tag !== "Right" || r.right._tag !== "kafka") throw new Error("expected kafka settings");
    expect(r.right.brokers).toEqual(["a:9092", "b:9093"]);
    expect(r.right.sasl?.mechanism).toBe("scram-sha-512");
    expect(r.right.tls).toEqual({});
    expect(r.right.clientId).toBe("netpulse");
    expect(describeSettings(r.right)).not.toContain("pw-kafka");
  });

  it.each([
    [{ NETPULSE_BUS: "rabbit" }, "NETPULSE_BUS"],
    [{ NETPULSE_NATS_URL: "http://x:1" }, "NETPULSE_NATS_URL"],
    [{ NETPULSE_NATS_USER: "u" }, "NETPULSE_NATS_USER"],
    [{ NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: "nohostport" }, "NETPULSE_KAFKA_BROKERS"],
    [{ NETPULSE_BUS: "kafka", NETPULSE_KAFKA_SASL_MECHANISM: "gssapi" }, "NETPULSE_KAFKA_SASL_MECHANISM"],
    [{ NETPULSE_BUS: "kafka", NETPULSE_KAFKA_SASL_MECHANISM: "plain" }, "NETPULSE_KAFKA_SASL_MECHANISM"],
    [{ NETPULSE_BUS: "kafka", NETPULSE_KAFKA_TLS: "maybe" }, "NETPULSE_KAFKA_TLS"],
  ])("fails naming the variable: %o", async (env, name) => {
    const r = await read(env);
    expect(r._tag).toBe("Left");
    if (r._tag === "Left") expect(Cause.pretty(Cause.fail(r.left))).toContain(name);
  });

  it("reads the replica count for streams and topics, 1 to 5", async () => {
    const nats = await read({ NETPULSE_BUS_REPLICAS: "3" });
    expect(nats._tag === "Right" && nats.right.replicas).toBe(3);
    const kafka = await read({ NETPULSE_BUS: "kafka", NETPULSE_BUS_REPLICAS: "3" });
    expect(kafka._tag === "Right" && describeSettings(kafka.right)).toContain("replicas=3");
    const one = await read({ NETPULSE_BUS_REPLICAS: "1" });
    expect(one._tag === "Right" && one.right.replicas).toBeUndefined();
    const bad = await read({ NETPULSE_BUS_REPLICAS: "7" });
    expect(bad._tag === "Left" && Cause.pretty(Cause.fail(bad.left))).toMatch(/NETPULSE_BUS_REPLICAS.*7 is not 1\.\.5/);
  });

  it("reads the Kafka group session timeout and heartbeat, a tenth of it by default", async () => {
    const kafka = async (env: Record<string, string>) => {
      const r = await read({ NETPULSE_BUS: "kafka", ...env });
      if (r._tag !== "Right" || r.right._tag !== "kafka")
        throw new Error(`expected kafka settings for ${JSON.stringify(env)}`);
      return r.right;
    };
    const byDefault = await kafka({});
    expect([byDefault.sessionTimeoutMs, byDefault.heartbeatIntervalMs]).toEqual([30_000, 3_000]);
    expect(describeSettings(byDefault)).toContain("session=30000ms");
    const short = await kafka({ NETPULSE_KAFKA_SESSION_TIMEOUT_MS: "10000" });
    expect([short.sessionTimeoutMs, short.heartbeatIntervalMs]).toEqual([10_000, 1_000]);
    const both = await kafka({ NETPULSE_KAFKA_SESSION_TIMEOUT_MS: "45000", NETPULSE_KAFKA_HEARTBEAT_MS: "15000" });
    expect([both.sessionTimeoutMs, both.heartbeatIntervalMs]).toEqual([45_000, 15_000]);
    // what the consumer is built with (kafka/consume.ts)
    expect(groupTiming(short)).toEqual({ sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 30_000 });
    expect(groupTiming({})).toEqual({ sessionTimeout: 30_000, heartbeatInterval: 3_000, rebalanceTimeout: 30_000 });
    expect(groupTiming({ sessionTimeoutMs: 120_000 }).rebalanceTimeout).toBe(120_000);
    const failures: Array<[Record<string, string>, RegExp]> = [
      [{ NETPULSE_KAFKA_SESSION_TIMEOUT_MS: "30s" }, /NETPULSE_KAFKA_SESSION_TIMEOUT_MS/],
      [{ NETPULSE_KAFKA_SESSION_TIMEOUT_MS: "500" }, /NETPULSE_KAFKA_SESSION_TIMEOUT_MS.*500 is not 1000\.\.3600000/],
      [
        { NETPULSE_KAFKA_HEARTBEAT_MS: "20000" },
        /NETPULSE_KAFKA_HEARTBEAT_MS.*20000 must be .* a third of the session timeout \(30000 ms\)/,
      ],
      [{ NETPULSE_KAFKA_HEARTBEAT_MS: "50" }, /NETPULSE_KAFKA_HEARTBEAT_MS.*50 must be at least 100/],
    ];
    for (const [env, message] of failures) {
      const r = await read({ NETPULSE_BUS: "kafka", ...env });
      expect(r._tag === "Left" && Cause.pretty(Cause.fail(r.left))).toMatch(message);
    }
    // NATS ignores them: only the chosen broker's variables are read
    expect((await read({ NETPULSE_KAFKA_SESSION_TIMEOUT_MS: "500" }))._tag).toBe("Right");
    console.log(
      `kafka group timing: 3 settings read, groupTiming checked 3 ways, ${failures.length} bad values refused`,
    );
  });

  it("strips credentials from URLs before they are shown", () => {
    expect(redactUrl("nats://u:pw@host:4222,nats://h2:4222")).toBe("nats://host:4222,nats://h2:4222");
  });
});
