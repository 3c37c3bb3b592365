// The loader binary on its own: one-line reasons for what to fix, and the kernel-side promise that
// a record is either delivered or counted as a ring-buffer drop (never lost silently).
import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRecord, type KernelFlowRecord } from "../services/capture/src/FlowRecordDecoder.js";
import { KernelDirection, RECORD_SIZE, RecordKind } from "../services/capture/src/FlowRecordLayout.js";
import { defaultLoaderPath } from "../services/capture/src/LoaderProcess.js";
import { bpfUnavailable, lineFrom, NetnsPair } from "./capture-netns.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture loader tests: BPF unavailable (${unavailable}) ***\n`);
}

const loader = defaultLoaderPath();
const PORT = 7400;
const CONNECTIONS = 2_000;

describe.skipIf(unavailable !== undefined)("netpulse-loader", () => {
  const pair = new NetnsPair();

  beforeAll(async () => {
    pair.up();
    await lineFrom(pair.peer(pair.server, "server", [PORT]), "listening");
  });

  afterAll(() => pair.down());

  it("names the flag on bad input (exit 2)", () => {
    const r = spawnSync(loader, ["--sampling", "0"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      "netpulse-loader: --sampling: expected an integer in [1, 1048576], got '0'",
    ]);
  });

  it("says what to fix when it lacks the privileges to load BPF (exit 1)", () => {
    const r = spawnSync("runuser", ["-u", "nobody", "--", loader, "--duration-ms", "100"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/permission denied loading BPF: run as root or grant CAP_BPF, CAP_PERFMON/);
  });

  it("delivers or counts every record when the reader stalls and the ring buffer overflows", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "np-loader-")), "records.bin");
    // a 64 KiB ring buffer, a reader that sleeps through the whole burst, no periodic records
    const reader = pair.spawn(pair.server, [
      "sh",
      "-c",
      `${loader} --ringbuf-kb 64 --stats-ms 100 --interval-ms 3600000 --cidr ${pair.cidr} --port ${PORT} --duration-ms 6000 | (sleep 4; cat > ${out})`,
    ]);
    await new Promise((r) => setTimeout(r, 1_000)); // loaded and attached
    await lineFrom(pair.peer(pair.client, "churn", [pair.serverIp, PORT, CONNECTIONS, "8"]), "ports", 60_000);
    await new Promise<void>((resolve) => reader.on("close", () => resolve()));
    const bytes = readFileSync(out);
    expect(bytes.length % RECORD_SIZE).toBe(0);
    let flowRecords = 0;
    let drops = 0;
    for (let o = 0; o < bytes.length; o += RECORD_SIZE) {
      const r = decodeRecord(bytes, o);
      if (r?.kind === RecordKind.stats) drops = r.ringbufDrops;
      else if (r !== undefined) flowRecords++;
    }
    expect(drops).toBeGreaterThan(0);
    // open + close on both ends of each connection: delivered or counted, nothing in between
    expect(flowRecords + drops).toBe(4 * CONNECTIONS);
  });

  // The flush visits the flows queued as active since their last record; a full queue makes it
  // walk the whole flow map instead. Either way a burst followed by silence is reported while the
  // connection is still open. Flushes here: only the last one, at exit. With --map-size 64 the
  // queue holds 64 keys, and the churn before the burst queues about 2 per connection.
  it.each([
    { queue: "drained", mapSize: 65_536, churn: 0 },
    { queue: "overflowed", mapSize: 64, churn: 200 },
  ])("reports a still-open flow's burst at the next flush when the active queue $queue", async (c) => {
    const out = join(mkdtempSync(join(tmpdir(), "np-loader-")), "records.bin");
    const run = pair.spawn(pair.server, [
      "sh",
      "-c",
      `${loader} --map-size ${c.mapSize} --interval-ms 3600000 --cidr ${pair.cidr} --port ${PORT} --duration-ms 3000 > ${out}`,
    ]);
    const exited = new Promise<void>((resolve) => run.on("close", () => resolve()));
    await new Promise((r) => setTimeout(r, 1_000)); // loaded and attached
    if (c.churn) await lineFrom(pair.peer(pair.client, "churn", [pair.serverIp, PORT, c.churn, "8"]), "ports", 60_000);
    const UP = 300_000;
    const client = pair.peer(pair.client, "client", [pair.serverIp, PORT, UP, 1_000]);
    const [lport] = await lineFrom(client, "ready");
    await exited;
    client.stdin.write("fin\n");
    await lineFrom(client, "closed");
    const bytes = readFileSync(out);
    const ends = { client: [] as KernelFlowRecord[], server: [] as KernelFlowRecord[] };
    for (let o = 0; o < bytes.length; o += RECORD_SIZE) {
      const r = decodeRecord(bytes, o);
      if (r === undefined || r.kind === RecordKind.stats) continue;
      if (r.direction === KernelDirection.client && String(r.lport) === lport) ends.client.push(r);
      if (r.direction === KernelDirection.server && String(r.rport) === lport) ends.server.push(r);
    }
    const sum = (rs: KernelFlowRecord[], f: (r: KernelFlowRecord) => number) => rs.reduce((a, r) => a + f(r), 0);
    // open, then one periodic record from the exit flush: the connection never closed while watched
    expect(ends.client.map((r) => r.kind)).toEqual([RecordKind.open, RecordKind.periodic]);
    expect(ends.server.map((r) => r.kind)).toEqual([RecordKind.open, RecordKind.periodic]);
    expect(sum(ends.client, (r) => r.dBytesOut)).toBe(UP);
    expect(sum(ends.server, (r) => r.dBytesIn)).toBe(UP);
    expect(sum(ends.client, (r) => r.dBytesIn)).toBe(1_000);
  });
});
