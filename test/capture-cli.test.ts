// `netpulse capture --stdout` as users run it (bin/netpulse, built dist): JSON lines with the
// raw-flow schema's field names for real connections, exit 2 with one line for bad flags, and
// Ctrl-C printing the still-open connections' last windows. No step assumes how fast the machine
// is: the capture counts as attached once a probe connection shows up on its stdout, however long
// that takes, and --duration counts from the loader's attach, not from the process start.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as Either from "effect/Either";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRawFlowJson } from "@netpulse/runtime/codec/json";
import { bpfUnavailable, lineFrom, NetnsPair } from "./capture-netns.js";

const netpulse = fileURLToPath(new URL("../bin/netpulse", import.meta.url));
/** A kernel test's bound: generous, start-up on a loaded machine is the slow part, not the capture. */
const SLOW_MACHINE_MS = 180_000;
const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING netpulse capture CLI run: BPF unavailable (${unavailable}) ***\n`);
}

// bin/netpulse rebuilds stale code before it starts: let that happen here, not inside a test
beforeAll(() => {
  const r = spawnSync(netpulse, ["--help"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
});

describe("netpulse capture flags", () => {
  it.each([
    [["capture"], /--stdout/],
    [["capture", "--stdout", "--port", "70000"], /--port: "70000" is not a port/],
    [["capture", "--stdout", "--cidr", "10.0.0.0/40"], /--cidr: "10.0.0.0\/40" is not an IPv4\/IPv6 address or CIDR/],
    [["capture", "--stdout", "--duration", "soon"], /--duration: expected a positive number/],
    [["capture", "--stdout", "--sampling", "0"], /--sampling: expected a positive number/],
  ])("%j → exit 2, one line", (args, message) => {
    const r = spawnSync(netpulse, args, { encoding: "utf8" });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

/** The CLI's output as it arrives, and its exit. */
const watch = (cli: ChildProcessWithoutNullStreams | ReturnType<typeof spawn>) => {
  const seen = { out: "", err: "" };
  cli.stdout?.on("data", (d: Buffer) => (seen.out += d.toString()));
  cli.stderr?.on("data", (d: Buffer) => (seen.err += d.toString()));
  const exited = new Promise<number | null>((resolve) => cli.on("close", (code) => resolve(code)));
  return { seen, exited };
};

describe.skipIf(unavailable !== undefined)("netpulse capture --stdout on the real kernel", () => {
  const pair = new NetnsPair();
  const PORT = 7500;
  const PROBE = 7501;

  beforeAll(async () => {
    pair.up();
    await lineFrom(pair.peer(pair.server, "server", [PORT, PROBE]), "listening");
  });

  afterAll(() => pair.down());

  /** Resolves once a probe connection is on the CLI's stdout: the programs are attached. */
  const attached = async (seen: { out: string }, exited: Promise<number | null>) => {
    let done = false;
    void exited.then(() => (done = true));
    while (!seen.out.includes(`"dst_port":${PROBE}`)) {
      if (done) throw new Error("capture exited before any probe connection showed up");
      pair.peer(pair.client, "connect", [pair.serverIp, PROBE]);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  it(
    "prints one schema-valid JSON line per flow window for --duration seconds",
    async () => {
      const args = [
        "capture",
        "--stdout",
        "--duration",
        "15", // from the attach; the churn after it needs a second or two
        "--cidr",
        pair.cidr,
        "--port",
        String(PORT),
        "--port",
        String(PROBE),
      ];
      const cli = spawn(netpulse, args, { stdio: ["ignore", "pipe", "pipe"] });
      const { seen, exited } = watch(cli);
      await attached(seen, exited);
      const ports = await lineFrom(pair.peer(pair.client, "churn", [pair.serverIp, PORT, "10", "2"]), "ports");
      expect(await exited, seen.err).toBe(0);
      expect(seen.err).toMatch(/^netpulse: capture: \d+ flow windows, dropped 0 kernel and 0 user-space records\n$/);
      const lines = seen.out.trim().split("\n");
      const flows = lines.map((l, i) => parseRawFlowJson(l, `line ${i + 1}`));
      expect(flows.flatMap((f) => (Either.isLeft(f) ? [f.left.message] : []))).toEqual([]);
      const records = flows.flatMap((f) => (Either.isRight(f) && f.right.dst_port === PORT ? [f.right] : []));
      expect(new Set(records.filter((f) => f.direction === "client").map((f) => String(f.src_port)))).toEqual(
        new Set(ports),
      );
      expect(records.filter((f) => f.direction === "server")).toHaveLength(10);
      expect(Object.keys(JSON.parse(lines[0] ?? "{}") as object)).toEqual(
        expect.arrayContaining([
          "flow_id",
          "src_ip",
          "src_port",
          "dst_ip",
          "dst_port",
          "srtt_us",
          "max_rtt_us",
          "retransmits",
          "close_reason",
          "sampling",
        ]),
      );
    },
    SLOW_MACHINE_MS,
  );

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "on %s prints the open connection's last window and the summary, exit %d",
    async (signal, code) => {
      // no periodic windows: whatever the open connection prints comes from the stop
      const args = ["capture", "--stdout", "--active-timeout", "3600", "--cidr", pair.cidr, "--port", String(PORT)];
      const cli = spawn(netpulse, [...args, "--port", String(PROBE)], { stdio: ["ignore", "pipe", "pipe"] });
      const { seen, exited } = watch(cli);
      await attached(seen, exited);
      const client = pair.peer(pair.client, "client", [pair.serverIp, PORT, 5000, 7000]);
      const [port] = await lineFrom(client, "ready");
      cli.kill(signal);
      expect(await exited, seen.err).toBe(code);
      client.stdin.write("fin\n");
      const mine = seen.out
        .trim()
        .split("\n")
        .map((l, i) => parseRawFlowJson(l, `line ${i + 1}`))
        .flatMap((f) => (Either.isRight(f) && f.right.dst_port === PORT ? [f.right] : []));
      expect(mine.filter((f) => f.direction === "client").map((f) => [String(f.src_port), f.close_reason])).toEqual([
        [port, "open"],
      ]);
      const window = mine.find((f) => f.direction === "client");
      expect([window?.bytes_sent, window?.bytes_received]).toEqual([5000n, 7000n]);
      expect(seen.err).toMatch(/^netpulse: capture: \d+ flow windows, dropped 0 kernel and 0 user-space records\n$/);
    },
    SLOW_MACHINE_MS,
  );
});
