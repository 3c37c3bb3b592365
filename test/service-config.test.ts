// Bad configuration stops each service at start with one line naming the setting, before it
// dials the bus: the bus address here is a closed port, so a service that connected first would
// fail (or retry) on the bus instead.
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { freePort, startService } from "./support/processes.js";

const cases = [
  { service: "capture", env: { NETPULSE_CAPTURE_SAMPLING: "0" }, names: "NETPULSE_CAPTURE_SAMPLING" },
  { service: "enricher", env: { NETPULSE_ENRICHER_MAX_IN_FLIGHT: "many" }, names: "NETPULSE_ENRICHER_MAX_IN_FLIGHT" },
  { service: "sink", env: { NETPULSE_SINK_BATCH_ROWS: "lots" }, names: "NETPULSE_SINK_BATCH_ROWS" },
] as const;

describe("service configuration", () => {
  it.each(cases)(
    "$service refuses $names before dialling the bus: one line, exit 1",
    async ({ service, env, names }) => {
      const closed = await freePort();
      const p = startService(service, {
        ...env,
        NETPULSE_BUS: "nats",
        NETPULSE_NATS_URL: `nats://127.0.0.1:${closed}`,
        NETPULSE_CLICKHOUSE_URL: `http://127.0.0.1:${closed}`,
      });
      const [code] = (await once(p.child, "exit")) as [number | null];
      expect(code).toBe(1);
      const lines = p
        .log()
        .split("\n")
        .filter((l) => l.length > 0 && !l.startsWith("npm warn"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${service}: .*${names}`));
      expect(p.log()).not.toMatch(/bus connected|ECONNREFUSED|CONNECTION_REFUSED/);
    },
  );
});
