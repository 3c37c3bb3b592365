// The capture on the real kernel: two network namespaces, our own client and server, HTB delay
// and receiver-side nft loss. Every figure is checked against the kernel's own (`ss -tin`) and
// against the byte counts the programs sent. Skips loudly without BPF unless NETPULSE_REQUIRE_BPF=1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawFlow } from "@netpulse/runtime/records";
import { bpfUnavailable, lineFrom, NetnsPair, ssInfo, startCapture } from "./capture-netns.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture kernel tests: BPF unavailable (${unavailable}) ***\n`);
}

const PORT = {
  plain: 7001,
  rtt: 7002,
  loss: 7003,
  syn: 7004,
  timeout: 7005,
  dual: 7006,
  closed: 7009,
  banner: 7010,
  sendonly: 7011,
} as const;

const pair = new NetnsPair();
let capture: Awaited<ReturnType<typeof startCapture>>;

const sum = (flows: RawFlow[], f: (r: RawFlow) => bigint | number): number =>
  flows.reduce((a, r) => a + Number(f(r)), 0);

/** Every window of one direction of the connection from client port `lport`, once it closed. */
const closedFlows = async (lport: number, direction: "client" | "server", timeoutMs = 10_000): Promise<RawFlow[]> => {
  const t0 = Date.now();
  for (;;) {
    const mine = capture.flows.filter((f) => f.src_port === lport && f.direction === direction);
    if (mine.some((f) => f.state === "CLOSE")) return mine;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`no closed ${direction} flow for port ${lport}; have ${mine.length} windows`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const connect = async (port: number, up: number, down: number, cgroupPath?: string, host = pair.serverIp) => {
  const client = pair.peer(pair.client, "client", [host, port, up, down], cgroupPath);
  const [lport, pid] = (await lineFrom(client, "ready")).map(Number);
  return { client, lport: lport ?? 0, pid: pid ?? 0 };
};

const close = async (client: ReturnType<typeof pair.spawn>, how: "fin" | "rst") => {
  const closed = lineFrom(client, "closed");
  client.stdin.write(`${how}\n`);
  await closed;
};

describe.skipIf(unavailable !== undefined)("capture on the real kernel", () => {
  let serverPid = 0;
  let serverCgroup: { path: string; id: number } | undefined;
  let clientCgroup: { path: string; id: number } | undefined;

  beforeAll(async () => {
    pair.up();
    serverCgroup = pair.cgroup("server");
    clientCgroup = pair.cgroup("client");
    const server = pair.peer(
      pair.server,
      "server",
      [
        ...Object.values(PORT).filter(
          (p) => p !== PORT.closed && p !== PORT.dual && p !== PORT.banner && p !== PORT.sendonly,
        ),
        `d${PORT.dual}`,
        `b${PORT.banner}`,
      ],
      serverCgroup?.path,
    );
    serverPid = Number((await lineFrom(server, "listening"))[0]);
    capture = await startCapture([pair.cidr, pair.cidr6]);
  });

  afterAll(async () => {
    try {
      if (capture !== undefined) await capture.stop();
    } finally {
      await pair.down();
    }
  });

  it("names a server that sends before it reads: its first receive names it", async () => {
    const { client, lport } = await connect(PORT.banner, 2000, 50_000, clientCgroup?.path);
    await close(client, "fin");
    const s = await closedFlows(lport, "server");
    expect(sum(s, (f) => f.bytes_sent)).toBe(50_000);
    expect(sum(s, (f) => f.bytes_received)).toBe(2000);
    expect(s.at(-1)).toMatchObject({ close_reason: "fin", pid: serverPid, comm: "python3" });
  });

  it("leaves pid 0 and comm empty for a server that never reads, but still gives its cgroup", async () => {
    const bytes = 30_000;
    const server = pair.peer(pair.server, "sendonly", [PORT.sendonly, bytes], serverCgroup?.path);
    await lineFrom(server, "listening");
    const client = pair.peer(pair.client, "drain", [pair.serverIp, PORT.sendonly], clientCgroup?.path);
    const [lport, clientPid, got] = (await lineFrom(client, "done")).map(Number);
    expect(got).toBe(bytes);
    const s = await closedFlows(lport ?? 0, "server");
    const c = await closedFlows(lport ?? 0, "client");
    expect(sum(s, (f) => f.bytes_sent)).toBe(bytes);
    expect(sum(s, (f) => f.bytes_received)).toBe(0);
    for (const f of s) expect(f).toMatchObject({ dst_port: PORT.sendonly, pid: 0, comm: "" });
    expect(s.at(-1)).toMatchObject({ close_reason: "fin", state: "CLOSE" });
    // the client read, and connected: its process is known either way
    expect(c.at(-1)).toMatchObject({ pid: clientPid, comm: "python3" });
    if (serverCgroup !== undefined && clientCgroup !== undefined) {
      expect(Number(s[0]?.cgroup_id)).toBe(serverCgroup.id);
      expect(Number(c[0]?.cgroup_id)).toBe(clientCgroup.id);
    }
  });

  it("sees both ends of a FIN-closed connection with the right 5-tuple, exact bytes and process", async () => {
    const up = 300_000;
    const down = 120_000;
    const { client, lport, pid } = await connect(PORT.plain, up, down, clientCgroup?.path);
    const ssClient = ssInfo(pair, pair.client, lport);
    const ssServer = ssInfo(pair, pair.server, lport);
    await close(client, "fin");
    const c = await closedFlows(lport, "client");
    const s = await closedFlows(lport, "server");
    for (const f of [...c, ...s])
      expect(f).toMatchObject({
        src_ip: pair.clientIp,
        src_port: lport,
        dst_ip: pair.serverIp,
        dst_port: PORT.plain,
        protocol: "TCP",
        sampling: 1,
      });
    // bytes: what the programs sent, and what the kernel says (ss at the same point)
    expect(sum(c, (f) => f.bytes_sent)).toBe(up);
    expect(sum(c, (f) => f.bytes_received)).toBe(down);
    expect(sum(s, (f) => f.bytes_sent)).toBe(down);
    expect(sum(s, (f) => f.bytes_received)).toBe(up);
    expect(ssClient.bytesSent - ssClient.bytesRetrans).toBe(up);
    expect(ssClient.bytesAcked).toBe(up + 1); // + the SYN
    expect(ssClient.bytesReceived).toBe(down);
    expect(ssServer.bytesReceived).toBe(up);
    expect(c.at(-1)).toMatchObject({ close_reason: "fin", state: "CLOSE", pid, comm: "python3" });
    expect(s.at(-1)).toMatchObject({ close_reason: "fin", state: "CLOSE", pid: serverPid, comm: "python3" });
    expect(Number(c[0]?.netns)).toBe(pair.netnsInode(pair.client));
    expect(Number(s[0]?.netns)).toBe(pair.netnsInode(pair.server));
    expect(c[0]?.flow_id).not.toBe(s[0]?.flow_id);
    if (clientCgroup !== undefined && serverCgroup !== undefined) {
      // the socket's cgroup: the connecting process's, and (cloned from the listener) the server's
      expect(Number(c[0]?.cgroup_id)).toBe(clientCgroup.id);
      expect(Number(s[0]?.cgroup_id)).toBe(serverCgroup.id);
    }
    expect(new Set(c.map((f) => f.flow_id)).size).toBe(1); // stable across windows
  });

  it("captures IPv6 connections with their addresses", async () => {
    const { client, lport } = await connect(PORT.plain, 70_000, 3_000, undefined, pair.serverIp6);
    await close(client, "fin");
    const c = await closedFlows(lport, "client");
    const s = await closedFlows(lport, "server");
    for (const f of [...c, ...s])
      expect(f).toMatchObject({ src_ip: pair.clientIp6, dst_ip: pair.serverIp6, dst_port: PORT.plain });
    expect(sum(c, (f) => f.bytes_sent)).toBe(70_000);
    expect(sum(s, (f) => f.bytes_received)).toBe(70_000);
    expect(sum(s, (f) => f.bytes_sent)).toBe(3_000);
  });

  it("sees an IPv4 client of a dual-stack server as IPv4 on both ends (v4-mapped addresses unwrapped)", async () => {
    const { client, lport } = await connect(PORT.dual, 5_000, 500);
    await close(client, "fin");
    const s = await closedFlows(lport, "server"); // passed the IPv4 CIDR filter too
    expect(s.at(-1)).toMatchObject({
      src_ip: pair.clientIp,
      dst_ip: pair.serverIp,
      dst_port: PORT.dual,
      bytes_received: 5_000n,
    });
  });

  it("reports srtt within 10 % of ss under an HTB delay, and RST close reasons", async () => {
    pair.shape("1mbit");
    try {
      const { client, lport } = await connect(PORT.rtt, 200_000, 1_000);
      const ss = ssInfo(pair, pair.client, lport);
      await close(client, "rst"); // no FIN exchange: no RTT sample after ss
      const c = await closedFlows(lport, "client");
      const s = await closedFlows(lport, "server");
      const srtt = c.at(-1)?.srtt_us ?? 0;
      expect(ss.rttMs).toBeGreaterThan(20); // the HTB queue really delayed
      expect(Math.abs(srtt / 1000 - ss.rttMs) / ss.rttMs).toBeLessThan(0.1);
      expect(Math.max(...c.map((f) => f.max_rtt_us))).toBeGreaterThanOrEqual(srtt);
      expect(Math.min(...c.map((f) => f.min_rtt_us).filter((v) => v > 0))).toBeLessThanOrEqual(srtt);
      expect(c.at(-1)?.close_reason).toBe("rst_sent");
      expect(s.at(-1)?.close_reason).toBe("rst_received");
      expect(sum(c, (f) => f.bytes_sent)).toBe(200_000);
    } finally {
      pair.unshape();
    }
  });

  it("counts retransmits equal to the kernel's total_retrans under receiver-side loss", async () => {
    pair.drop(PORT.loss, { percent: 5 });
    let lport = 0;
    let ss: ReturnType<typeof ssInfo>;
    let client: ReturnType<typeof pair.spawn>;
    try {
      ({ client, lport } = await connect(PORT.loss, 2_000_000, 1_000));
      await new Promise((r) => setTimeout(r, 300)); // let the last ACKs land
      ss = ssInfo(pair, pair.client, lport);
    } finally {
      pair.undrop();
    }
    await close(client, "fin");
    const c = await closedFlows(lport, "client");
    const s = await closedFlows(lport, "server");
    expect(ss.retransTotal).toBeGreaterThan(0);
    expect(sum(c, (f) => f.retransmits)).toBe(ss.retransTotal);
    expect(sum(s, (f) => f.bytes_received)).toBe(2_000_000);
    expect(sum(c, (f) => f.bytes_sent)).toBe(2_000_000);
  });

  it("counts SYN retransmits when SYNs are dropped", async () => {
    pair.drop(PORT.syn, "syn");
    const pending = connect(PORT.syn, 1_000, 1_000);
    // the first SYN (and maybe its 1 s retransmit) is lost; then let the next one through
    const t0 = Date.now();
    while (pair.dropped() < 1 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    pair.undrop();
    const { client, lport } = await pending;
    const ss = ssInfo(pair, pair.client, lport);
    await close(client, "fin");
    const c = await closedFlows(lport, "client");
    const syn = sum(c, (f) => f.syn_retransmits);
    expect(syn).toBeGreaterThanOrEqual(1);
    expect(syn).toBe(ss.retransTotal);
    expect(sum(c, (f) => f.retransmits)).toBe(ss.retransTotal);
  });

  it("reports a connect that gives up as timeout and a refused one as rst_received", async () => {
    pair.exec(pair.client, ["sysctl", "-qw", "net.ipv4.tcp_syn_retries=1"]);
    pair.drop(PORT.timeout, "syn");
    try {
      const timedOut = pair.peer(pair.client, "connect", [pair.serverIp, PORT.timeout]);
      const refused = pair.peer(pair.client, "connect", [pair.serverIp, PORT.closed]);
      expect((await lineFrom(refused, "failed"))[0]).toBe("ConnectionRefusedError");
      expect((await lineFrom(timedOut, "failed", 15_000))[0]).toMatch(/TimeoutError|timeout/);
    } finally {
      pair.undrop();
    }
    const t0 = Date.now();
    const find = (port: number) => capture.flows.find((f) => f.dst_port === port && f.direction === "client");
    while ((find(PORT.timeout) === undefined || find(PORT.closed) === undefined) && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    const timeout = find(PORT.timeout);
    expect(timeout).toMatchObject({ close_reason: "timeout", state: "CLOSE", bytes_sent: 0n, bytes_received: 0n });
    expect(timeout?.syn_retransmits).toBeGreaterThanOrEqual(1n);
    expect(timeout?.syn_retransmits).toBe(timeout?.retransmits);
    expect(find(PORT.closed)).toMatchObject({ close_reason: "rst_received", state: "CLOSE", syn_retransmits: 0n });
    expect(capture.flows.some((f) => f.dst_port === PORT.closed && f.direction === "server")).toBe(false);
    // the local port survives inet_put_port(): read from inet_sport when inet_num is already 0
    expect(timeout?.src_port).toBeGreaterThan(1023);
    expect(find(PORT.closed)?.src_port).toBeGreaterThan(1023);
    expect(timeout).toMatchObject({ src_ip: pair.clientIp, dst_ip: pair.serverIp, dst_port: PORT.timeout });
  });

  it("lost nothing on the way", () => {
    expect(capture.stats.ringbufDrops).toBe(0);
    expect(capture.stats.queueDrops).toBe(0);
  });
});
