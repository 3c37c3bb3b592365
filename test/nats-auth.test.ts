// Authenticated nats-servers (user/password; token over TLS), started here on free ports with temp configs:
// the right credentials work end to end, a wrong password fails at start with one clear line that
// names the server and never the password.
import { type ChildProcess, execSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Redacted from "effect/Redacted";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoOnce } from "./support/busHarness.js";
import { freePort } from "./support/processes.js";
import { Bus, BusError } from "@netpulse/runtime/bus/Bus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";

const USER = "netpulse";
const PASSWORD = "right-horse-battery-staple";

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

/** A private nats-server with the given config body (listen line added), stopped after the suite. */
const privateServer = (configBody: (dir: string) => string) => {
  const state = { dir: "", url: "", server: undefined as ChildProcess | undefined };
  beforeAll(async () => {
    state.dir = mkdtempSync(join(tmpdir(), "netpulse-nats-auth-"));
    const port = await freePort();
    state.url = `nats://127.0.0.1:${port}`;
    writeFileSync(join(state.dir, "nats.conf"), `listen: 127.0.0.1:${port}\n${configBody(state.dir)}\n`);
    const server = spawn("nats-server", ["-c", join(state.dir, "nats.conf")], { stdio: "ignore" });
    server.on("error", () => undefined);
    state.server = server;
    await waitForPort(port, server);
  });
  afterAll(() => {
    state.server?.kill("SIGTERM");
    if (state.dir) rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
};

describe("NATS with user/password auth", () => {
  const srv = privateServer(
    (dir) =>
      `jetstream { store_dir: "${join(dir, "js")}" }\nauthorization { users = [ { user: "${USER}", password: "${PASSWORD}" } ] }`,
  );

  const withBus = <A, E>(password: string, effect: Effect.Effect<A, E, Bus>) =>
    Effect.runPromiseExit(
      effect.pipe(
        Effect.provide(NatsBus.layer({ _tag: "nats", url: srv.url, user: USER, password: Redacted.make(password) })),
      ),
    );

  it("works with the right password", async () => {
    const topic = "auth.check";
    const exit = await withBus(PASSWORD, echoOnce(topic));
    expect(Exit.isSuccess(exit) ? exit.value : Cause.pretty(exit.cause)).toEqual(["hello"]);
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
    expect(error.value.message).toBe(`NATS at ${srv.url}: authorization failed`);
    const everything = `${error.value.message} ${JSON.stringify(error.value)} ${Cause.pretty(exit.cause)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  });
});

describe("NATS with a token over TLS", () => {
  const TOKEN = "tok-3f9a1c77";
  const srv = privateServer((dir) => {
    // A throwaway CA and a server certificate for 127.0.0.1.
    const sh = (cmd: string) => execSync(cmd, { cwd: dir, stdio: "ignore" });
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=netpulse-test-ca -keyout ca.key -out ca.pem");
    sh("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr");
    writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    sh(
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext -out server.pem",
    );
    return (
      `jetstream { store_dir: "${join(dir, "js")}" }\nauthorization { token: "${TOKEN}" }\n` +
      `tls { cert_file: "${join(dir, "server.pem")}", key_file: "${join(dir, "server.key")}" }`
    );
  });
  const connectWith = (token: string) =>
    Effect.runPromiseExit(
      Bus.pipe(
        Effect.flatMap((bus) => bus.provision({ topic: "tls.check", partitions: 1, retentionMs: 60_000 })),
        Effect.provide(
          NatsBus.layer({
            _tag: "nats",
            url: srv.url,
            token: Redacted.make(token),
            tls: { caFile: join(srv.dir, "ca.pem") },
          }),
        ),
      ),
    );

  it("works with the right token and the CA", async () => {
    const exit = await connectWith(TOKEN);
    expect(Exit.isSuccess(exit) ? "ok" : Cause.pretty(exit.cause)).toBe("ok");
  });

  it("fails with one line on a wrong token, without the token", async () => {
    const exit = await connectWith("tok-wrong");
    const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined;
    expect(error?._tag === "Some" && error.value.message).toBe(`NATS at ${srv.url}: authorization failed`);
    expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).not.toContain("tok-wrong");
  });
});
