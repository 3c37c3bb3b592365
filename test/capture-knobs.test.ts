// The capture's knobs on the real kernel: 1-in-N sampling that both ends agree on, port filter,
// "always keep" for slow or lossy flows that sampling left out, adoption of connections open before
// the capture started (only those the filter passes), and active-timeout windows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawFlow } from "@netpulse/runtime/records";
import { bpfUnavailable, lineFrom, NetnsPair, startCapture } from "./capture-netns.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture knob tests: BPF unavailable (${unavailable}) ***\n`);
}

const PORT = { sampled: 7301, other: 7302, slow: 7303, lossy: 7304, paced: 7305 } as const;
const pair = new NetnsPair();

const churn = async (port: number, count: number): Promise<string[]> =>
  lineFrom(pair.peer(pair.client, "churn", [pair.serverIp, port, count, "8"]), "ports", 60_000);

/** One paced connection sending `bytes` in one chunk, then closing; its client port. */
const paced = async (port: number, bytes: number): Promise<string> =>
  (await lineFrom(pair.peer(pair.client, "paced", [pair.serverIp, port, 1, bytes, 0]), "done", 30_000))[0] ?? "";

const clientPorts = (flows: RawFlow[], port: number, direction: string) =>
  new Set(flows.filter((f) => f.dst_port === port && f.direction === direction).map((f) => String(f.src_port)));

describe.skipIf(unavailable !== undefined)("capture knobs on the real kernel", () => {
  beforeAll(async () => {
    pair.up();
    const server = pair.peer(pair.server, "server", Object.values(PORT));
    await lineFrom(server, "listening");
  });

  afterAll(() => pair.down());

  it("samples 1 in 4 flows, both ends of a connection agreeing, and stamps the rate", async () => {
    const cap = await startCapture(pair.cidr, { sampling: 4 });
    const ports = await churn(PORT.sampled, 400);
    const flows = await cap.stop();
    const clients = clientPorts(flows, PORT.sampled, "client");
    const servers = clientPorts(flows, PORT.sampled, "server");
    expect(clients).toEqual(servers); // the sorted-tuple hash gives both ends the same verdict
    expect(clients.size).toBeGreaterThan(40); // expected 100, σ ≈ 9
    expect(clients.size).toBeLessThan(160);
    expect([...clients].every((p) => ports.includes(p))).toBe(true);
    expect(flows.every((f) => f.sampling === 4)).toBe(true);
    expect(cap.stats.sampledOut).toBeGreaterThan(0);
  });

  it("keeps only flows on the filtered port", async () => {
    const cap = await startCapture(pair.cidr, { ports: [PORT.other] });
    await churn(PORT.sampled, 20);
    const wanted = await churn(PORT.other, 20);
    const flows = await cap.stop();
    expect(flows.every((f) => f.dst_port === PORT.other)).toBe(true);
    expect(clientPorts(flows, PORT.other, "client")).toEqual(new Set(wanted));
  });

  it("adopts connections open before it started, only those its filter passes, with their bytes since the start", async () => {
    // 30 × 1000 B, one chunk every 100 ms: both connections are mid-flow when the capture starts
    const start = (port: number) =>
      lineFrom(pair.peer(pair.client, "paced", [pair.serverIp, port, 30, 1000, 100]), "done");
    const kept = start(PORT.other);
    const filtered = start(PORT.sampled);
    await new Promise((r) => setTimeout(r, 500));
    const cap = await startCapture(pair.cidr, { ports: [PORT.other] });
    const [keptPort] = await kept;
    await filtered;
    // "done" comes after the server's FIN reached the client; the client's last ACK may still be on
    // its way to the server's LAST_ACK socket
    await new Promise((r) => setTimeout(r, 300));
    const flows = await cap.stop();
    expect(flows.filter((f) => f.dst_port === PORT.sampled)).toEqual([]);
    const mine = flows.filter((f) => f.dst_port === PORT.other && String(f.src_port) === keptPort);
    const c = mine.filter((f) => f.direction === "client");
    const s = mine.filter((f) => f.direction === "server");
    // the first record of an adopted flow carries everything since the socket was created
    expect(c.reduce((a, f) => a + Number(f.bytes_sent), 0)).toBe(30_000);
    expect(s.reduce((a, f) => a + Number(f.bytes_received), 0)).toBe(30_000);
    expect(c.at(-1)?.state).toBe("CLOSE");
    expect(s.at(-1)?.state).toBe("CLOSE");
  });

  it("always keeps a sampled-out flow once its RTT crosses 100 ms or it retransmits more than 3 times", async () => {
    const cap = await startCapture(pair.cidr, { sampling: 1_000_000 });
    pair.shape("1mbit");
    let slowPort = "";
    try {
      slowPort = await paced(PORT.slow, 300_000);
    } finally {
      pair.unshape();
    }
    pair.drop(PORT.lossy, { percent: 10 });
    let lossyPort = "";
    try {
      lossyPort = await paced(PORT.lossy, 1_000_000);
    } finally {
      pair.undrop();
    }
    await churn(PORT.sampled, 20); // fast, clean flows: still sampled out
    const flows = await cap.stop();
    const slow = flows.filter((f) => f.direction === "client" && String(f.src_port) === slowPort);
    const lossy = flows.filter((f) => f.direction === "client" && String(f.src_port) === lossyPort);
    expect(slow.length).toBeGreaterThan(0);
    expect(Math.max(...slow.map((f) => f.max_rtt_us))).toBeGreaterThan(100_000);
    expect(lossy.length).toBeGreaterThan(0);
    expect([...slow, ...lossy].every((f) => f.sampling === 1)).toBe(true);
    expect(flows.filter((f) => f.dst_port === PORT.sampled).length).toBeLessThan(3);
  });

  it("emits a long flow's windows every active timeout, adding up to its exact bytes", async () => {
    const cap = await startCapture(pair.cidr, { activeTimeoutMs: 1_000 });
    const [lport] = await lineFrom(
      pair.peer(pair.client, "paced", [pair.serverIp, PORT.paced, "12", "50000", "300"]),
      "done",
      30_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const flows = await cap.stop();
    const windows = flows.filter((f) => f.direction === "client" && String(f.src_port) === lport);
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(windows.reduce((a, f) => a + f.bytes_sent, 0n)).toBe(600_000n);
    expect(windows.at(-1)).toMatchObject({ state: "CLOSE", close_reason: "fin" });
    expect(windows.slice(0, -1).every((f) => f.close_reason === "open" && f.state === "ESTABLISHED")).toBe(true);
    for (let i = 1; i < windows.length; i++)
      expect(windows[i]!.start_ns).toBeGreaterThanOrEqual(windows[i - 1]!.end_ns);
    expect(new Set(windows.map((f) => f.flow_id)).size).toBe(1);
  });
});
