// A private single-node Kafka with a SASL/PLAIN listener (same jars as scripts/services.sh, in
// .netpulse/kafka/libs; temp data dir, free ports): the right credentials work end to end, a wrong
// password fails at start with one line naming the brokers and never the password.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Redacted from "effect/Redacted";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoOnce } from "./support/busHarness.js";
import { freePort } from "./support/processes.js";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";

const libs = fileURLToPath(new URL("../.netpulse/kafka/libs", import.meta.url));
const USER = "netpulse";
const PASSWORD = "np-kafka-secret-42";

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

describe("Kafka with SASL/PLAIN", () => {
  let dir = "";
  let broker: ChildProcess | undefined;
  let brokers: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(libs, ".complete")))
      throw new Error(`Kafka jars missing in ${libs}; run scripts/install-deps.sh`);
    dir = mkdtempSync(join(tmpdir(), "netpulse-kafka-auth-"));
    const [port, controller] = [await freePort(), await freePort()];
    brokers = [`127.0.0.1:${port}`];
    const config = join(dir, "server.properties");
    writeFileSync(
      config,
      [
        "process.roles=broker,controller",
        "node.id=1",
        `controller.quorum.voters=1@127.0.0.1:${controller}`,
        `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
        `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=SASL_PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms=PLAIN",
        "sasl.mechanism.inter.broker.protocol=PLAIN",
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ` +
          `username="admin" password="admin-pw" user_admin="admin-pw" user_${USER}="${PASSWORD}";`,
        `log.dirs=${join(dir, "data")}`,
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
      ].join("\n"),
    );
    const java = ["-Xms64m", "-Xmx384m", `-Dkafka.logs.dir=${dir}`, "-cp", `${libs}/*`];
    execFileSync(
      "java",
      [...java, "kafka.tools.StorageTool", "format", "-t", "netpulse-auth-test-0001", "-c", config],
      {
        stdio: "ignore",
      },
    );
    broker = spawn("java", [...java, "kafka.Kafka", config], { stdio: "ignore" });
    broker.on("error", () => undefined);
    for (let i = 0; i < 600 && !(await listening(port)); i++) {
      if (broker.exitCode !== null) throw new Error(`kafka exited with ${broker.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    if (broker && broker.exitCode === null) {
      const exited = new Promise((r) => broker!.once("exit", r));
      broker.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (broker.exitCode === null) broker.kill("SIGKILL");
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const withBus = <A, E>(password: string, effect: Effect.Effect<A, E, Bus>) =>
    Effect.runPromiseExit(
      effect.pipe(
        Effect.provide(
          KafkaBus.layer({
            _tag: "kafka",
            brokers,
            clientId: "netpulse-auth-test",
            sasl: { mechanism: "plain", username: USER, password: Redacted.make(password) },
          }),
        ),
      ),
    );

  it("works with the right password", async () => {
    const topic = "auth.check";
    const exit = await withBus(PASSWORD, echoOnce(topic));
    expect(Exit.isSuccess(exit) ? exit.value : Cause.pretty(exit.cause)).toEqual(["hello"]);
  }, 90_000);

  it("fails at start with one line naming the brokers, not the secret, on a wrong password", async () => {
    const wrong = "wrong-password-987";
    const exit = await withBus(wrong, Bus.pipe(Effect.asVoid));
    const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined;
    expect(error?._tag).toBe("Some");
    if (error?._tag !== "Some" || !Exit.isFailure(exit)) return;
    expect(error.value.message).toMatch(new RegExp(`^Kafka admin at ${brokers[0]}: authentication failed`));
    expect(error.value.message).not.toContain("\n");
    const everything = `${JSON.stringify(error.value)} ${Cause.pretty(exit.cause)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  }, 60_000);
});
