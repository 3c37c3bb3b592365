// scripts/services.sh against a second, isolated set of servers (own state dir, free ports), so the
// servers npm test started for the other suites are never touched.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servicesArgs } from "../packages/cli/src/commands/services.js";

const script = fileURLToPath(new URL("../scripts/services.sh", import.meta.url));
const PREFIX = "netpulse-services-";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

const freePort = async (): Promise<number> => {
  const server = await listen(0);
  const address = server.address();
  await close(server);
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
};

// A stopped server can linger a moment as a zombie until its new parent reaps it: that is dead.
const alive = async (pid: number): Promise<boolean> => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "" && state !== "Z";
};

let dir = "";
let env: NodeJS.ProcessEnv = {};

const services = (...args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile("bash", [script, ...args], { env, timeout: 170_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });

const pidOf = async (name: string): Promise<number> => Number((await readFile(join(dir, name, "pid"), "utf8")).trim());

// An interrupted run skips afterAll and leaves its isolated servers up: stop those whose test
// process is gone before starting new ones.
const reapLeftovers = async (): Promise<void> => {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const old = join(tmpdir(), name);
    const owner = Number((await readFile(join(old, "owner"), "utf8").catch(() => "0")).trim());
    if (owner !== 0 && (await alive(owner))) continue;
    await new Promise((resolve) =>
      execFile("bash", [script, "down"], { env: { ...process.env, NETPULSE_SERVICES_DIR: old } }, resolve),
    );
    await rm(old, { recursive: true, force: true });
  }
};

beforeAll(async () => {
  await reapLeftovers();
  dir = await mkdtemp(join(tmpdir(), PREFIX));
  await writeFile(join(dir, "owner"), `${process.pid}\n`);
  env = {
    ...process.env,
    NETPULSE_SERVICES_DIR: dir,
    NETPULSE_NATS_PORT: String(await freePort()),
    NETPULSE_NATS_MONITOR_PORT: String(await freePort()),
    NETPULSE_KAFKA_PORT: String(await freePort()),
    NETPULSE_KAFKA_CONTROLLER_PORT: String(await freePort()),
    NETPULSE_CLICKHOUSE_HTTP_PORT: String(await freePort()),
    NETPULSE_CLICKHOUSE_TCP_PORT: String(await freePort()),
  };
});

afterAll(async () => {
  await services("down");
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe("netpulse services arguments", () => {
  it("accepts the actions and service names, rejects anything else as a usage error", () => {
    expect(Effect.runSync(servicesArgs("up", undefined))).toEqual(["up"]);
    expect(Effect.runSync(servicesArgs("status", "kafka"))).toEqual(["status", "kafka"]);
    const badName = Effect.runSync(Effect.either(servicesArgs("up", "redis")));
    expect(Either.isLeft(badName) && badName.left._tag === "UsageError" && badName.left.message).toContain('"redis"');
    const badAction = Effect.runSync(Effect.either(servicesArgs("restart", "nats")));
    expect(Either.isLeft(badAction) && badAction.left.message).toContain('"restart"');
    // --cluster: nats|kafka only (docs/clusters.md)
    expect(Effect.runSync(servicesArgs("up", undefined, true))).toEqual(["up", "--cluster"]);
    expect(Effect.runSync(servicesArgs("status", "kafka", true))).toEqual(["status", "--cluster", "kafka"]);
    const badCluster = Effect.runSync(Effect.either(servicesArgs("up", "clickhouse", true)));
    expect(Either.isLeft(badCluster) && badCluster.left.message).toContain('unknown cluster "clickhouse"');
  });

  it("the script itself rejects an unknown service with exit 2", async () => {
    const run = await services("up", "redis");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("usage:");
  });

  it("the script rejects a cluster of anything but nats|kafka with exit 2", async () => {
    const run = await services("up", "--cluster", "clickhouse");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--cluster [nats|kafka]");
  });
});

describe("scripts/services.sh (isolated state dir and ports)", () => {
  it("starts NATS once, reports it, and a second up reuses it", async () => {
    const first = await services("up", "nats");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/nats ready \(pid \d+/);
    const pid = await pidOf("nats");
    expect(await alive(pid)).toBe(true);

    const health = await fetch(`http://127.0.0.1:${env.NETPULSE_NATS_MONITOR_PORT}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });

    const second = await services("up", "nats");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`nats already running (pid ${pid})`);

    const status = await services("status", "nats");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^nats +running +pid ${pid} +nats://127.0.0.1:${env.NETPULSE_NATS_PORT}`));
  });

  it("down stops what it started; status then says stopped and exits 3", async () => {
    const pid = await pidOf("nats");
    const down = await services("down", "nats");
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`nats stopped (pid ${pid})`);
    expect(await alive(pid)).toBe(false);
    const status = await services("status", "nats");
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^nats +stopped$/m);
    expect((await services("down", "nats")).stdout).toContain("nats not running");
  });

  it("down leaves alone a process whose pid is in the pidfile but is not our server", async () => {
    const stranger: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    const pid = stranger.pid!;
    await writeFile(join(dir, "nats", "pid"), `${pid}\n`);
    const down = await services("down", "nats");
    expect(down.code).toBe(0);
    expect(down.stdout).toContain("nats not running");
    expect(await alive(pid)).toBe(true);
    stranger.kill();
  });

  it("refuses to start when a port is taken by something else, naming the port", async () => {
    const port = Number(env.NETPULSE_CLICKHOUSE_HTTP_PORT);
    const squatter = await listen(port);
    const up = await services("up", "clickhouse");
    await close(squatter);
    expect(up.code).toBe(1);
    expect(up.stderr.trim().split("\n")).toHaveLength(1);
    expect(up.stderr).toContain(`port ${port} (http) is already in use by pid ${process.pid}`);
    expect((await services("status", "clickhouse")).code).toBe(3);
  });

  it("runs ClickHouse with its own config: default user and the netpulse user with its password", async () => {
    const up = await services("up", "clickhouse");
    expect(up.code, up.stderr).toBe(0);
    const url = `http://127.0.0.1:${env.NETPULSE_CLICKHOUSE_HTTP_PORT}/`;
    const query = (sql: string, auth?: string) =>
      fetch(
        `${url}?query=${encodeURIComponent(sql)}`,
        auth === undefined ? {} : { headers: { authorization: `Basic ${btoa(auth)}` } },
      );
    expect(await (await query("SELECT version()")).text()).toMatch(/^18\.16\./);
    const good = await query("SELECT 1", "netpulse:netpulse-local");
    expect(good.status).toBe(200);
    const bad = await query("SELECT 1", "netpulse:wrong");
    expect(bad.status).not.toBe(200);
    expect(await bad.text()).toContain("Wrong password");
    expect((await services("down", "clickhouse")).code).toBe(0);
  });

  it("formats Kafka storage on the first start only and serves metadata", async () => {
    for (let round = 0; round < 2; round++) {
      const up = await services("up", "kafka");
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout.includes("kafka storage formatted")).toBe(round === 0);
      expect(up.stdout).toMatch(/kafka ready \(pid \d+/);
      expect((await services("down", "kafka")).code).toBe(0);
    }
    const formatLog = await readFile(join(dir, "kafka", "format.log"), "utf8");
    expect(formatLog.match(/Formatting metadata directory/g)).toHaveLength(1);
  }, 300_000);
});
