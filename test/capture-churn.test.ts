// Churn on the real kernel: thousands of short connections between two namespaces; every one
// must be captured from both ends with exact bytes, and nothing may be dropped on the way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bpfUnavailable, lineFrom, NetnsPair, startCapture } from "./capture-netns.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture churn test: BPF unavailable (${unavailable}) ***\n`);
}

const PORT = 7100;
const CONNECTIONS = 3_000;
const PARALLEL = 50;

const pair = new NetnsPair();
let capture: Awaited<ReturnType<typeof startCapture>> | undefined;

describe.skipIf(unavailable !== undefined)("capture under connection churn", () => {
  beforeAll(async () => {
    pair.up();
    const server = pair.peer(pair.server, "server", [PORT]);
    await lineFrom(server, "listening");
    capture = await startCapture(pair.cidr);
  });

  afterAll(async () => {
    try {
      if (capture !== undefined) await capture.stop();
    } finally {
      await pair.down();
    }
  });

  it(`captures all ${CONNECTIONS} short connections from both ends, dropping nothing`, async () => {
    const cap = capture!;
    const churn = pair.peer(pair.client, "churn", [pair.serverIp, PORT, CONNECTIONS, PARALLEL]);
    const ports = await lineFrom(churn, "ports", 120_000);
    expect(new Set(ports).size).toBe(CONNECTIONS);
    // the peers have closed; wait until the kernel has finished every close handshake too, so
    // the last connections' CLOSE records exist before the capture stops
    const open = (ns: string) =>
      pair
        .exec(ns, [
          "ss",
          "-tanH",
          "exclude",
          "time-wait",
          "exclude",
          "listening",
          `( sport = :${PORT} or dport = :${PORT} )`,
        ])
        .trim();
    for (let i = 0; i < 100 && (open(pair.client) !== "" || open(pair.server) !== ""); i++)
      await new Promise((r) => setTimeout(r, 100));
    const flows = await cap.stop();
    capture = undefined;
    const closed = flows.filter((f) => f.dst_port === PORT && f.state === "CLOSE");
    const clients = closed.filter((f) => f.direction === "client");
    const servers = closed.filter((f) => f.direction === "server");
    expect(new Set(clients.map((f) => String(f.src_port)))).toEqual(new Set(ports));
    expect(new Set(servers.map((f) => f.src_port)).size).toBe(CONNECTIONS);
    // every window of every connection, summed per connection: exact bytes
    const bytes = new Map<string, bigint>();
    for (const f of flows.filter((f) => f.dst_port === PORT)) {
      const k = `${f.direction}:${f.src_port}`;
      bytes.set(k, (bytes.get(k) ?? 0n) + f.bytes_sent * 1_000_000n + f.bytes_received);
    }
    expect(bytes.size).toBe(2 * CONNECTIONS);
    expect([...bytes.entries()].filter(([, v]) => v !== 100n * 1_000_000n + 100n)).toEqual([]);
    expect(closed.every((f) => f.close_reason === "fin")).toBe(true);
    expect(cap.stats.ringbufDrops).toBe(0);
    expect(cap.stats.queueDrops).toBe(0);
    expect(cap.stats.tableFull).toBe(0);
  });
});
