// `netpulse start` (what `npm start` runs) for real: root, the kernel's BPF, its own NATS, the
// shared ClickHouse, the four services, network-namespace pods with a slow link, a lossy link,
// SYN drops and a NetworkPolicy the traffic breaks. A --duration run ends by itself with a JSON
// summary showing flows in ClickHouse and the rtt_high and policy_denied the demo provokes, and
// leaves nothing behind; a run killed with -9 leaves its namespaces and processes, and the next
// run removes them, works, and leaves nothing either.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { demoManifests } from "@netpulse/cli/demo/manifests";
import { bpfUnavailable } from "./capture-netns.js";
import { until } from "./support/processes.js";

const netpulse = fileURLToPath(new URL("../bin/netpulse", import.meta.url));
const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING netpulse start: BPF unavailable (${unavailable}) ***\n`);
}

/** The demo's own broker (packages/cli/src/demo/busServer.ts): every process it starts has it in its environment. */
const DEMO_BUS_ENV = "NETPULSE_NATS_URL=nats://127.0.0.1:4223";

interface Leftovers {
  readonly netns: string[];
  readonly nftTables: string[];
  readonly processes: string[];
}

const read = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** What of the demo exists now: npdemo-* network namespaces, nft tables, its processes. */
const leftovers = (): Leftovers => {
  const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith("npdemo-"));
  const nftTables = spawnSync("nft", ["list", "tables"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.includes("npdemo"));
  const processes: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    const cmd = read(`/proc/${pid}/cmdline`).replace(/\0/g, " ");
    const env = read(`/proc/${pid}/environ`).split("\0");
    if (cmd.includes("src/demo/traffic.py") || cmd.includes("-p 4223") || env.includes(DEMO_BUS_ENV))
      processes.push(`${pid} ${cmd.trim()}`);
  }
  return { netns, nftTables, processes };
};

const NOTHING: Leftovers = { netns: [], nftTables: [], processes: [] };

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

const run = (args: string[], timeoutMs: number): Promise<Run> =>
  new Promise((resolve) => {
    const cli = spawn(netpulse, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    cli.stdout.on("data", (d: Buffer) => (out += d.toString()));
    cli.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => cli.kill("SIGINT"), timeoutMs);
    cli.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });

interface Summary {
  readonly flows: number;
  readonly anomalies_by_kind: Record<string, number>;
  readonly clickhouse_flow_rows: number;
}

const summaryOf = (r: Run): Summary => {
  const last = r.out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as Summary;
  } catch {
    throw new Error(`the last stdout line is not JSON: ${last}\nstderr:\n${r.err.slice(-3000)}`);
  }
};

beforeAll(() => {
  // bin/netpulse rebuilds stale code before it starts: let that happen here, not inside a timed run
  const r = spawnSync(netpulse, ["--help"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

describe("the demo cluster's manifests", () => {
  it("admit checkout → postgres and deny the batch reporter (the policy_denied the demo provokes)", () => {
    const dir = mkdtempSync(join(tmpdir(), "netpulse-demo-"));
    try {
      const file = join(dir, "cluster.json");
      writeFileSync(file, demoManifests());
      const check = (from: string) => {
        const args = ["policy", "check", "--manifests", file, "--from", from, "--to", "data/postgres-0"];
        const r = spawnSync(netpulse, [...args, "--port", "5432", "--protocol", "TCP"], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        return (JSON.parse(r.stdout.trim()) as { allowed: boolean }).allowed;
      };
      expect(check("shop/checkout-5f7b8c-p9r2m")).toBe(true);
      expect(check("batch/reporter-29012345-7hq2x")).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(unavailable !== undefined)("netpulse start on the real kernel", () => {
  it("runs 45 s by itself: flows in ClickHouse, rtt_high and policy_denied, then nothing left", async () => {
    const r = await run(["start", "--duration", "45", "--json"], 170_000);
    expect(r.code, r.err.slice(-3000)).toBe(0);
    const s = summaryOf(r);
    expect(s.flows).toBeGreaterThan(0);
    expect(s.clickhouse_flow_rows).toBeGreaterThan(0);
    expect(s.anomalies_by_kind["rtt_high"] ?? 0).toBeGreaterThan(0);
    expect(s.anomalies_by_kind["policy_denied"] ?? 0).toBeGreaterThan(0);
    // the plain progress lines (stdout is a pipe here, not a terminal) and the cookbook
    expect(r.out).toMatch(/^start: 00:\d\d flows\/s capture /m);
    expect(r.out).toContain("Top talkers by workload pair");
    expect(leftovers()).toEqual(NOTHING);
  }, 200_000);

  it("after a run killed with -9, the next one removes its leftovers, works, and leaves nothing", async () => {
    const first = spawn(netpulse, ["start"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    first.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const closed = new Promise((resolve) => first.on("close", resolve));
    await until("the first run's traffic", () => err.includes("start: traffic between the pods"), 120_000).catch(
      (e: unknown) => {
        first.kill("SIGKILL");
        throw new Error(`${String(e)}; stderr:\n${err}`);
      },
    );
    first.kill("SIGKILL");
    await closed;
    const left = leftovers();
    expect(left.netns.length).toBeGreaterThan(0);
    expect(left.processes.length).toBeGreaterThan(0);

    const r = await run(["start", "--duration", "15", "--json"], 150_000);
    expect(r.code, r.err.slice(-3000)).toBe(0);
    expect(r.err).toContain("removed what an earlier run left");
    expect(summaryOf(r).clickhouse_flow_rows).toBeGreaterThan(0);
    expect(leftovers()).toEqual(NOTHING);
  }, 300_000);
});
