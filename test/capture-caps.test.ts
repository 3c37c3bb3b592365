// The capture runs with exactly the capabilities the Helm chart gives it (values.yaml
// capture.capabilities, uid 0 as the chart's pod securityContext says, no privilege escalation):
// the loader started under setpriv with only those in its bounding set sees a connection made
// after it attached, with neither tracefs nor debugfs mounted; the capture service itself (the
// chart's command) becomes ready the same way; without CAP_BPF or CAP_PERFMON both fail with one
// line naming what is missing. Root and a real kernel; skips loudly without BPF unless
// NETPULSE_REQUIRE_BPF=1.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { decodeRecord, type KernelFlowRecord } from "../services/capture/src/FlowRecordDecoder.js";
import { RECORD_SIZE, RecordKind } from "../services/capture/src/FlowRecordLayout.js";
import { defaultLoaderPath } from "../services/capture/src/LoaderProcess.js";
import { bpfUnavailable, lineFrom, NetnsPair } from "./capture-netns.js";
import { freePort, startNatsServer, stopChild, until } from "./support/processes.js";

const unavailable = bpfUnavailable();
if (unavailable !== undefined) {
  if (process.env["NETPULSE_REQUIRE_BPF"] === "1")
    throw new Error(`BPF capture required but unavailable: ${unavailable}`);
  console.warn(`\n*** SKIPPING capture capability tests: BPF unavailable (${unavailable}) ***\n`);
}

interface ChartValues {
  readonly capture: { readonly capabilities: string[]; readonly command: string[] };
}
const values = parse(readFileSync("deploy/helm/netpulse/values.yaml", "utf8")) as ChartValues;
/** The chart's list (BPF, PERFMON) in setpriv's spelling: "bpf", "perfmon". */
const chartCaps = values.capture.capabilities.map((c) => c.toLowerCase());
const CAP_NUMBER: Record<string, number> = { perfmon: 38, bpf: 39 };
/** Those as a /proc/<pid>/status CapEff mask. */
const chartMask = chartCaps.reduce((m, c) => m | (1n << BigInt(CAP_NUMBER[c] ?? 63)), 0n);

/** As the container starts: uid 0 whose bounding set holds only `caps` (so its permitted and
 * effective sets are exactly these after exec), nothing inheritable, no_new_privs
 * (allowPrivilegeEscalation: false). */
const setpriv = (caps: ReadonlyArray<string>): string[] => {
  const set = ["-all", ...caps.map((c) => `+${c}`)].join(",");
  return ["setpriv", "--bounding-set", set, "--inh-caps", "-all", "--no-new-privs", "--"];
};

/** Neither tracefs nor debugfs: empty tmpfs over both, in a mount namespace of the command's own. */
const withoutTracefs = (argv: ReadonlyArray<string>): string[] => [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "--",
  "sh",
  "-c",
  'for d in /sys/kernel/tracing /sys/kernel/debug; do [ -d "$d" ] && mount -t tmpfs none "$d"; done; exec "$@"',
  "sh",
  ...argv,
];

const loader = defaultLoaderPath();
const PORT = 7460;

const capEff = (pid: number): bigint => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("CapEff:"));
  return BigInt(`0x${line?.split(/\s+/)[1] ?? "0"}`);
};

/** The one line a start without `caps` leaves on stderr. */
const refusal = (caps: ReadonlyArray<string>): { status: number | null; lines: string[] } => {
  const [cmd, ...args] = [...setpriv(caps), loader, "--duration-ms", "100"];
  const r = spawnSync(cmd ?? "setpriv", args, { encoding: "utf8" });
  return { status: r.status, lines: r.stderr.trim().split("\n") };
};

describe.skipIf(unavailable !== undefined)("the capture with the Helm chart's capabilities only", () => {
  const pair = new NetnsPair();

  beforeAll(async () => {
    pair.up();
    await lineFrom(pair.peer(pair.server, "server", [PORT]), "listening");
  });

  afterAll(() => pair.down());

  it("the chart grants exactly CAP_BPF and CAP_PERFMON", () => {
    expect(chartCaps).toEqual(["bpf", "perfmon"]);
  });

  it("loads, attaches and sees a connection with those alone, no tracefs or debugfs mounted", async () => {
    const [cmd, ...args] = withoutTracefs([
      ...setpriv(chartCaps),
      loader,
      "--cidr",
      pair.cidr,
      "--port",
      String(PORT),
      "--interval-ms",
      "200",
      "--duration-ms",
      "4000",
    ]);
    const child = spawn(cmd ?? "unshare", args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // the first record (stats) is written once every program is attached
    await until("loader attached", () => Buffer.concat(chunks).length >= RECORD_SIZE, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}; stderr: ${stderr}`);
    });
    // exactly the chart's capabilities in effect (setpriv exec'd the loader: same pid)
    expect(capEff(child.pid ?? 0)).toBe(chartMask);
    const client = pair.peer(pair.client, "client", [pair.serverIp, PORT, 3000, 7000]);
    const [lport] = (await lineFrom(client, "ready")).map(Number);
    const closed = lineFrom(client, "closed");
    client.stdin.write("fin\n");
    await closed;
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
    const bytes = Buffer.concat(chunks);
    const flows: KernelFlowRecord[] = [];
    for (let o = 0; o + RECORD_SIZE <= bytes.length; o += RECORD_SIZE) {
      const r = decodeRecord(bytes, o);
      if (r !== undefined && r.kind !== RecordKind.stats) flows.push(r);
    }
    const mine = flows.filter((f) => f.lport === lport || f.rport === lport);
    expect(mine.some((f) => f.kind === RecordKind.close)).toBe(true);
    const out = (dir: number) => mine.filter((f) => f.direction === dir).reduce((a, f) => Math.max(a, f.bytesOut), 0);
    expect(out(1)).toBe(3000); // the client sent 3000 bytes, the server 7000
    expect(out(2)).toBe(7000);
  });

  it.each([
    ["CAP_BPF", ["perfmon"]],
    ["CAP_PERFMON", ["bpf"]],
    ["CAP_BPF and CAP_PERFMON", []],
  ])("refuses to start without %s, in one line naming it", (missing, caps) => {
    const r = refusal(caps);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      `netpulse-loader: permission denied loading BPF: run as root or grant CAP_BPF, CAP_PERFMON (missing: ${missing}; Operation not permitted)`,
    ]);
  });

  describe("the capture service, as the chart runs it", () => {
    let nats: { url: string; child: ChildProcess } | undefined;
    beforeAll(async () => {
      nats = await startNatsServer(mkdtempSync(join(tmpdir(), "np-caps-")));
    });
    afterAll(() => stopChild(nats?.child));

    const start = async (caps: ReadonlyArray<string>) => {
      const port = await freePort();
      const [node, ...rest] = values.capture.command;
      expect(node).toBe("node");
      const [cmd, ...args] = [...setpriv(caps), process.execPath, ...rest];
      const child = spawn(cmd ?? "setpriv", args, {
        env: {
          ...process.env,
          NETPULSE_BUS: "nats",
          NETPULSE_NATS_URL: nats?.url ?? "",
          NETPULSE_CAPTURE_CIDRS: pair.cidr,
          NETPULSE_METRICS_PORT: String(port),
          NETPULSE_NODE_NAME: "caps",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      return { child, port, stderr: () => stderr };
    };

    it("becomes ready with the chart's capabilities", async () => {
      const s = await start(chartCaps);
      try {
        await until(
          "capture ready",
          async () => s.child.exitCode === null && (await fetch(`http://127.0.0.1:${s.port}/readyz`)).status === 200,
          30_000,
        ).catch((e: Error) => {
          throw new Error(`${e.message}; stderr: ${s.stderr()}`);
        });
        // it took SCHED_IDLE (5, /proc/<pid>/stat field 41) on itself: no CAP_SYS_NICE needed
        const stat = readFileSync(`/proc/${s.child.pid ?? 0}/stat`, "utf8");
        expect(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]).toBe("5");
        expect(capEff(s.child.pid ?? 0)).toBe(chartMask);
      } finally {
        await stopChild(s.child);
      }
    });

    it("fails without CAP_BPF, its error naming the loader's reason", async () => {
      const s = await start(["perfmon"]);
      const code = await new Promise<number | null>((resolve) => s.child.on("close", (c) => resolve(c)));
      expect(code).not.toBe(0);
      const reasons = s
        .stderr()
        .split("\n")
        .filter((l) => l.includes("permission denied loading BPF"));
      expect(reasons).toEqual([
        "capture: LoaderError: netpulse-loader: permission denied loading BPF: run as root or grant CAP_BPF, " +
          "CAP_PERFMON (missing: CAP_BPF; Operation not permitted)",
      ]);
    });
  });
});
