// An authenticated nats-server (user/password, started here on a free port with a temp config):
// the right credentials work end to end, a wrong password fails at start with one clear line that
// names the server and never the password.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cause, Chunk, Effect, Exit, Redacted, Stream } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, BusError } from "@netpulse/runtime/bus/Bus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";

const USER = "netpulse";
const PASSWORD = "right-horse-battery-staple";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });

const waitForPort = async (port: number, child: ChildProcess) => {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nats-server did not listen on ${port}`);
};

describe("NATS with user/password auth", () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "netpulse-nats-auth-"));
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "nats.conf"),
      `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, "js")}" }\n` +
        `authorization { users = [ { user: "${USER}", password: "${PASSWORD}" } ] }\n`,
    );
    server = spawn("nats-server", ["-c", join(dir, "nats.conf")], { stdio: "ignore" });
    server.on("error", () => undefined);
    await waitForPort(port, server);
  });

  afterAll(() => {
    server?.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const withBus = <A, E>(password: string, effect: Effect.Effect<A, E, Bus>) =>
    Effect.runPromiseExit(
      effect.pipe(Effect.provide(NatsBus.layer({ _tag: "nats", url, user: USER, password: Redacted.make(password) }))),
    );

  it("works with the right password", async () => {
    const topic = "auth.check";
    const exit = await withBus(
      PASSWORD,
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision({ topic, partitions: 1, retentionMs: 60_000 });
        yield* bus.publish(topic, [{ key: "k", value: Buffer.from("hello") }]);
        return yield* bus.consume(topic, { group: "g" }).pipe(Stream.take(1), Stream.runCollect);
      }),
    );
    expect(Exit.isSuccess(exit) && Chunk.toReadonlyArray(exit.value).map((m) => m.value.toString())).toEqual(["hello"]);
  });

  it("fails at start with one line naming the server, not the secret, on a wrong password", async () => {
    const wrong = "wrong-password-123";
    const exit = await withBus(wrong, Bus.pipe(Effect.asVoid));
    expect(Exit.isFailure(exit)).toBe(true);
    if (!Exit.isFailure(exit)) return;
    const error = Cause.failureOption(exit.cause);
    expect(error._tag).toBe("Some");
    if (error._tag !== "Some") return;
    expect(error.value).toBeInstanceOf(BusError);
    expect(error.value.message).toBe(`NATS at ${url}: authorization failed`);
    const everything = `${error.value.message} ${JSON.stringify(error.value)} ${Cause.pretty(exit.cause)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  });
});
