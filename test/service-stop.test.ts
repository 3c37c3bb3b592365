// A stop signal ends a service promptly even while it is still dialling a Kafka broker that does
// not answer: kafkajs retries a refused connect for about 30 s, a pod gets 30 s to go, and the
// sink used to sit out the retry (10–33 s measured) before it exited; now about 1 s.
import { describe, expect, it } from "vitest";
import { freePort, startSink, waitFor } from "../services/sink/test/harness.js";

describe("service stop", () => {
  it("the sink exits within seconds of SIGTERM while its Kafka broker refuses connections", async () => {
    const closed = await freePort();
    const sink = startSink({
      NETPULSE_BUS: "kafka",
      NETPULSE_KAFKA_BROKERS: `127.0.0.1:${closed}`,
      NETPULSE_CLICKHOUSE_URL: `http://127.0.0.1:${closed}`,
      NETPULSE_SINK_HTTP_PORT: String(await freePort()),
    });
    await waitFor("the sink dialling Kafka", () => /Failed to connect to seed broker/.test(sink.output()), 20_000);
    const signalled = Date.now();
    sink.child.kill("SIGTERM");
    const { code, signal } = await sink.exited;
    expect(Date.now() - signalled, sink.output()).toBeLessThan(5_000);
    expect(signal).toBeNull();
    expect(code).toBe(0);
  }, 60_000);
});
