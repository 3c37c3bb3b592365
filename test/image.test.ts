// The container image (deploy/image/Dockerfile) run with podman as the Helm chart runs it: the
// entrypoint `netpulse --help` as the image's non-root user on a read-only root (nothing is built at
// run time); then the chart's own commands (values.yaml) for all four services, each with the
// chart's securityContext — the capture as uid 0 holding only the chart's capabilities, the others
// as uid 65532 with none — on the host network against a nats-server of the test's own and the
// shared ClickHouse (a database of its own, dropped afterwards): loopback connections made here
// end up as rows in ClickHouse. Without CAP_BPF the capture exits with the loader's one line.
//
// CI does not build the image (minutes of apt and npm); this file runs only where podman and an
// image built from exactly this checkout exist (deploy/image/build-local.sh labels the image with
// deploy/image/source-id.sh), and says why it skips otherwise.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bpfUnavailable } from "./capture-netns.js";
import { freePort, startNatsServer, stopChild, until } from "./support/processes.js";

const image = process.env["NETPULSE_IMAGE"] ?? "localhost/netpulse:latest";
const clickhouseUrl = process.env["NETPULSE_CLICKHOUSE_URL"] ?? "http://127.0.0.1:8123";

const run = (cmd: string, args: ReadonlyArray<string>) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
};

/** podman's defaults, else runc with limits this machine allows (as build-local.sh probes). */
const runOptionCandidates = (): string[][] => {
  const hardNofile = run("sh", ["-c", "ulimit -Hn"]).stdout.trim();
  return [[], ["--runtime", "runc", "--ulimit", `nofile=${hardNofile}:${hardNofile}`, "--ulimit", "nproc=32768:32768"]];
};

const skipReason = ((): string | undefined => {
  if (process.getuid?.() !== 0) return "not root";
  if (run("podman", ["--version"]).status !== 0) return "podman is not installed";
  const inspect = run("podman", ["image", "inspect", "--format", '{{index .Labels "io.netpulse.source-id"}}', image]);
  if (inspect.status !== 0) return `no image ${image}: build it with deploy/image/build-local.sh`;
  const want = run("bash", ["deploy/image/source-id.sh"]).stdout.trim();
  const have = inspect.stdout.trim();
  if (have !== want)
    return `${image} was built from other sources (source-id ${have || "none"}, this checkout ${want}): rebuild with deploy/image/build-local.sh`;
  return undefined;
})();
if (skipReason !== undefined) console.warn(`\n*** SKIPPING image tests: ${skipReason} ***\n`);

interface ChartValues {
  readonly runAsUser: number;
  readonly capture: { readonly command: string[]; readonly capabilities: string[] };
  readonly enricher: { readonly command: string[] };
  readonly detector: { readonly command: string[] };
  readonly sink: { readonly command: string[] };
}
const values = parse(readFileSync("deploy/helm/netpulse/values.yaml", "utf8")) as ChartValues;

describe.skipIf(skipReason !== undefined)(`the image ${image}`, () => {
  let runOpts: string[] = [];
  const names: string[] = [];
  const podman = (args: ReadonlyArray<string>) => run("podman", args);
  /** `podman run` with the options this machine needs; a name of its own, removed afterwards. */
  const runArgs = (name: string, args: ReadonlyArray<string>) => {
    names.push(name);
    return ["run", "--name", name, ...runOpts, ...args];
  };
  const suffix = `${process.pid}-${Date.now() % 100000}`;

  beforeAll(() => {
    const works = runOptionCandidates().find((o) => podman(["run", "--rm", ...o, image, "--help"]).status === 0);
    if (works === undefined)
      throw new Error(`podman cannot run ${image} here: ${podman(["run", "--rm", image]).stderr}`);
    runOpts = works;
    console.log(`podman run options: ${runOpts.join(" ") || "(defaults)"}`);
  });
  afterAll(() => {
    if (names.length > 0) podman(["rm", "-f", "-t", "5", ...names]);
  });

  it("runs `netpulse --help` as uid 65532 on a read-only root, never building", () => {
    const config = JSON.parse(podman(["image", "inspect", "--format", "{{json .Config}}", image]).stdout) as {
      User: string;
      Entrypoint: string[];
      WorkingDir: string;
    };
    expect(config.User).toBe(`${values.runAsUser}:${values.runAsUser}`);
    expect(config.Entrypoint).toEqual(["netpulse"]);
    expect(config.WorkingDir).toBe("/app");
    const help = podman(runArgs(`np-image-help-${suffix}`, ["--read-only", "--cap-drop", "ALL", image, "--help"]));
    expect(help.stderr).toBe("");
    expect(help.status).toBe(0);
    const commands = ["capture", "enrich", "sink", "query", "replay", "backtest", "rules", "anomalies"];
    for (const c of commands) expect(help.stdout).toMatch(new RegExp(`^ {2}${c}\\b`, "m"));
    // only compiled code and what runs: no TypeScript sources, no compiler, no dev dependencies
    const look = podman(
      runArgs(`np-image-look-${suffix}`, [
        "--entrypoint",
        "sh",
        image,
        "-c",
        "id -u; ls -d packages/*/src services/*/src node_modules/typescript node_modules/vitest 2>/dev/null | wc -l; " +
          "ls bpf/.output; test -x /usr/bin/chrt && echo chrt",
      ]),
    );
    expect(look.stdout.trim().split("\n")).toEqual([String(values.runAsUser), "0", "netpulse-loader", "chrt"]);
    console.log(`checked: entrypoint, user ${config.User}, ${commands.length} commands in --help, no sources in /app`);
  });

  describe.skipIf(bpfUnavailable() !== undefined)(
    "the four services with the chart's commands and securityContext",
    () => {
      let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
      let server: Server | undefined;
      let dir = "";
      let seccomp = "";
      const database = `netpulse_image_${process.pid}`;
      const ports = { capture: 0, enricher: 0, detector: 0, sink: 0, traffic: 0 };
      const sql = async (query: string): Promise<string> => {
        const r = await fetch(clickhouseUrl, { method: "POST", body: query });
        const text = await r.text();
        if (!r.ok) throw new Error(`ClickHouse: ${text}`);
        return text.trim();
      };

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "np-image-"));
        nats = await startNatsServer(dir);
        for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
        server = createServer((s) => s.on("data", () => undefined).on("end", () => s.end("done")));
        await new Promise<void>((r) => server?.listen(ports.traffic, "127.0.0.1", r));
        // podman's default profile lets bpf(2) through only with CAP_SYS_ADMIN (containers-common 0.50)
        seccomp = join(dir, "seccomp-bpf.json");
        const profile = run("bash", ["deploy/image/seccomp-bpf.sh"]);
        expect(profile.status).toBe(0);
        writeFileSync(seccomp, profile.stdout);
        writeFileSync(join(dir, "cluster.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: { name: image-test }\n");
      });
      afterAll(async () => {
        await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
        await stopChild(nats?.child);
        await sql(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      });

      const common = (): string[] => [
        "--network",
        "host",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "-e",
        "NETPULSE_BUS=nats",
        "-e",
        `NETPULSE_NATS_URL=${nats?.url ?? ""}`,
      ];
      const captureArgs = (caps: ReadonlyArray<string>): string[] => [
        ...common(),
        "--user",
        "0",
        "--cap-drop",
        "ALL",
        ...caps.flatMap((c) => ["--cap-add", c]),
        "--security-opt",
        `seccomp=${seccomp}`,
        "-v",
        "/sys/kernel/btf:/sys/kernel/btf:ro",
        "-e",
        `NETPULSE_CAPTURE_PORTS=${ports.traffic}`,
        "-e",
        "NETPULSE_CAPTURE_ACTIVE_TIMEOUT_MS=1000",
        "-e",
        "NETPULSE_NODE_NAME=image-test",
      ];
      const asService = (command: ReadonlyArray<string>): string[] => [
        "--entrypoint",
        command[0] ?? "node",
        image,
        ...command.slice(1),
      ];
      const nonRoot = (): string[] => [
        ...common(),
        "--user",
        `${values.runAsUser}:${values.runAsUser}`,
        "--cap-drop",
        "ALL",
      ];
      const ready = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      const logsOf = (name: string) => {
        const l = podman(["logs", name]);
        return `${l.stdout}${l.stderr}`.slice(-2000);
      };

      it("capture → enricher → sink: connections made here become ClickHouse rows", async () => {
        const c = {
          capture: `np-image-capture-${suffix}`,
          enricher: `np-image-enricher-${suffix}`,
          detector: `np-image-detector-${suffix}`,
          sink: `np-image-sink-${suffix}`,
        };
        const started = [
          podman(
            runArgs(c.capture, [
              "-d",
              ...captureArgs(values.capture.capabilities),
              "-e",
              `NETPULSE_METRICS_PORT=${ports.capture}`,
              ...asService(values.capture.command),
            ]),
          ),
          podman(
            runArgs(c.enricher, [
              "-d",
              ...nonRoot(),
              "-v",
              `${join(dir, "cluster.yaml")}:/etc/netpulse/cluster.yaml:ro`,
              "-e",
              "NETPULSE_MANIFESTS=/etc/netpulse/cluster.yaml",
              "-e",
              `NETPULSE_METRICS_PORT=${ports.enricher}`,
              ...asService(values.enricher.command),
            ]),
          ),
          podman(
            runArgs(c.detector, [
              "-d",
              ...nonRoot(),
              "-e",
              "NETPULSE_DETECTOR_POLICIES=off",
              "-e",
              `NETPULSE_METRICS_PORT=${ports.detector}`,
              ...asService(values.detector.command),
            ]),
          ),
          podman(
            runArgs(c.sink, [
              "-d",
              ...nonRoot(),
              "-e",
              `NETPULSE_CLICKHOUSE_URL=${clickhouseUrl}`,
              "-e",
              `NETPULSE_CLICKHOUSE_DATABASE=${database}`,
              "-e",
              `NETPULSE_SINK_HTTP_PORT=${ports.sink}`,
              "-e",
              "NETPULSE_SINK_LINGER_MS=300",
              ...asService(values.sink.command),
            ]),
          ),
        ];
        for (const s of started) expect(s.stderr).toBe("");
        for (const [service, name] of Object.entries(c))
          await until(`${service} ready`, ready(ports[service as keyof typeof ports]), 60_000).catch((e: Error) => {
            throw new Error(`${e.message}; ${service} log: ${logsOf(name)}`);
          });

        // the capture: uid 0 whose effective set is exactly the chart's; the loader it spawned the same
        const pid = podman(["inspect", "--format", "{{.State.Pid}}", c.capture]).stdout.trim();
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const CAP_NUMBER: Record<string, number> = { PERFMON: 38, BPF: 39 };
        const mask = values.capture.capabilities.reduce((m, cap) => m | (1n << BigInt(CAP_NUMBER[cap] ?? 63)), 0n);
        expect(BigInt(`0x${/CapEff:\s+(\w+)/.exec(status)?.[1] ?? "0"}`)).toBe(mask);
        expect(/Uid:\s+0\s/.test(status)).toBe(true);
        expect(/NoNewPrivs:\s+1/.test(status)).toBe(true);
        for (const service of ["enricher", "detector", "sink"] as const) {
          const p = podman(["inspect", "--format", "{{.State.Pid}}", c[service]]).stdout.trim();
          const st = readFileSync(`/proc/${p}/status`, "utf8");
          expect(st).toMatch(new RegExp(`Uid:\\s+${values.runAsUser}\\s`));
          expect(st).toMatch(/CapEff:\s+0+\n/);
        }

        const CONNECTIONS = 20;
        for (let i = 0; i < CONNECTIONS; i++)
          await new Promise<void>((resolve, reject) => {
            const s = connect(ports.traffic, "127.0.0.1", () => s.end("x".repeat(1000)));
            s.on("data", () => undefined)
              .on("close", () => resolve())
              .on("error", reject);
          });
        // both ends of each loopback connection are a flow of their own
        const query = `SELECT count() FROM ${database}.flows WHERE node = 'image-test' AND (src_port = ${ports.traffic} OR dst_port = ${ports.traffic})`;
        let rows = 0;
        await until(
          `${2 * CONNECTIONS} flow rows in ClickHouse`,
          async () => (rows = Number(await sql(query))) >= 2 * CONNECTIONS,
          60_000,
        ).catch((e: Error) => {
          throw new Error(`${e.message} (have ${rows}); capture: ${logsOf(c.capture)}; sink: ${logsOf(c.sink)}`);
        });
        const sent = await sql(
          `SELECT countIf(dst_port = ${ports.traffic} AND bytes_sent = 1000) FROM ${database}.flows WHERE node = 'image-test'`,
        );
        expect(Number(sent)).toBe(CONNECTIONS);
        console.log(
          `checked: ${CONNECTIONS} connections → ${rows} flow rows in ${database}.flows via the image's capture (CapEff ${mask.toString(16)}), enricher, sink; detector ready`,
        );
      });

      it("the capture without CAP_BPF exits with the loader's one line naming it", async () => {
        const name = `np-image-nobpf-${suffix}`;
        const r = podman(
          runArgs(name, [
            ...captureArgs(values.capture.capabilities.filter((cap) => cap !== "BPF")),
            "-e",
            `NETPULSE_METRICS_PORT=${await freePort()}`,
            ...asService(values.capture.command),
          ]),
        );
        expect(r.status).not.toBe(0);
        const reasons = r.stderr.split("\n").filter((l) => l.includes("netpulse-loader:"));
        expect(reasons).toHaveLength(1);
        expect(reasons[0]).toContain("missing: CAP_BPF");
        console.log(`checked: without CAP_BPF exit ${r.status}: ${reasons[0]}`);
      });
    },
  );
});

// What CI can check without podman: the Dockerfile's npm manifests stage lists every workspace (a
// new one left out would build here but fail `npm ci` in the image), and every path it copies from
// the context exists.
describe("the Dockerfile, read", () => {
  const dockerfile = readFileSync("deploy/image/Dockerfile", "utf8");
  const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].map((m) => m[1]!.trim().split(/\s+/));

  it("copies every npm workspace's package.json into the manifests stage", () => {
    const { workspaces } = JSON.parse(readFileSync("package.json", "utf8")) as { workspaces: string[] };
    const manifests = dockerfile.slice(dockerfile.indexOf(" AS manifests"), dockerfile.indexOf(" AS build"));
    for (const w of workspaces) expect(manifests).toContain(`COPY ${w}/package.json ${w}/`);
    expect(workspaces.length).toBeGreaterThan(5);
  });

  it("copies only paths that exist in the build context", () => {
    const sources = copies.flatMap((args) => args.slice(0, -1).filter((a) => !a.startsWith("--")));
    expect(sources.length).toBeGreaterThan(5);
    const missing = sources.filter((p) => spawnSync("test", ["-e", p]).status !== 0);
    expect(missing).toEqual([]);
  });
});
