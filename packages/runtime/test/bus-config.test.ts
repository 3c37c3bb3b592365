// Bus settings from the environment: defaults, both brokers, and failures that name the variable.
import * as Cause from "effect/Cause";
import * as ConfigProvider from "effect/ConfigProvider";
import * as Effect from "effect/Effect";
import * as Redacted from "effect/Redacted";
import { describe, expect, it } from "vitest";
import { busSettings, describeSettings, redactUrl } from "@netpulse/runtime/bus/BusConfig";

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

  it("strips credentials from URLs before they are shown", () => {
    expect(redactUrl("nats://u:pw@host:4222,nats://h2:4222")).toBe("nats://host:4222,nats://h2:4222");
  });
});
