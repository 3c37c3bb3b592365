// `netpulse services up|down|status [nats|kafka|clickhouse]`: the local NATS, Kafka and ClickHouse
// servers; with `--cluster [nats|kafka]` a local 3-node NATS / 3-broker Kafka cluster instead
// (docs/clusters.md). scripts/services.sh does the work (npm test uses it too); this command checks the
// arguments, runs the script with the terminal attached and exits with the script's code.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

export const SERVICE_ACTIONS = ["up", "down", "status"] as const;
export const SERVICE_NAMES = ["nats", "kafka", "clickhouse"] as const;
export const CLUSTER_NAMES = ["nats", "kafka"] as const;

export class ServicesScriptError extends Data.TaggedError("ServicesScriptError")<{
  readonly message: string;
  readonly cause: unknown;
}> {}

// Same depth from src/commands and dist/commands.
const script = fileURLToPath(new URL("../../../../scripts/services.sh", import.meta.url));

const oneOf = (value: string, allowed: readonly string[]): boolean => allowed.includes(value);

/** The script's argument list, or a UsageError naming the bad argument. */
export const servicesArgs = (
  action: string,
  name: string | undefined,
  cluster = false,
): Effect.Effect<string[], UsageError> => {
  if (!oneOf(action, SERVICE_ACTIONS))
    return Effect.fail(
      new UsageError({ message: `services: unknown action "${action}" (use ${SERVICE_ACTIONS.join("|")})` }),
    );
  const flag = cluster ? ["--cluster"] : [];
  if (name === undefined) return Effect.succeed([action, ...flag]);
  const names = cluster ? CLUSTER_NAMES : SERVICE_NAMES;
  if (!oneOf(name, names))
    return Effect.fail(
      new UsageError({
        message: `services: unknown ${cluster ? "cluster" : "service"} "${name}" (use ${names.join("|")})`,
      }),
    );
  return Effect.succeed([action, ...flag, name]);
};

/** Runs scripts/services.sh with inherited stdio; succeeds with its exit code (128+n for signal n). */
const runScript = (args: readonly string[]): Effect.Effect<number, ServicesScriptError> =>
  Effect.async<number, ServicesScriptError>((resume) => {
    let done = false;
    const child = spawn("bash", [script, ...args], { stdio: "inherit" });
    child.once("error", (cause) => {
      if (done) return;
      done = true;
      resume(Effect.fail(new ServicesScriptError({ message: `cannot run ${script}: ${cause.message}`, cause })));
    });
    child.once("exit", (code, signal) => {
      if (done) return;
      done = true;
      resume(Effect.succeed(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
    });
    return Effect.sync(() => {
      if (!done) child.kill("SIGTERM");
    });
  });

export const servicesCommand = Effect.fn("services.run")(function* (
  action: string,
  name: string | undefined,
  cluster: boolean,
) {
  const args = yield* servicesArgs(action, name, cluster);
  const code = yield* runScript(args);
  if (code !== 0) yield* Effect.sync(() => (process.exitCode = code));
});

export const register = (program: Command): void => {
  program
    .command("services")
    .description("start, stop or show the local NATS, Kafka and ClickHouse servers (data in .netpulse/)")
    .argument("<action>", SERVICE_ACTIONS.join("|"))
    .argument("[name]", `one of ${SERVICE_NAMES.join("|")} (default: all)`)
    .option("--cluster", `a local 3-node cluster of ${CLUSTER_NAMES.join("|")} instead (default: both)`)
    .addHelpText(
      "after",
      "\nPorts: NATS 4222 (monitoring 8222), Kafka 9092 (controller 9093), ClickHouse HTTP 8123 / native 9000.\n" +
        "--cluster: NATS 4231-4233 (routes 6231-6233, monitoring 8231-8233), Kafka 9191-9193 (controllers\n" +
        "9291-9293), data in .netpulse/cluster/<name>-<i>/; `up` prints the NETPULSE_* env to use.\n" +
        "`status` exits 3 when a named server (or a cluster node) is stopped.",
    )
    .action((action: string, name: string | undefined, opts: { cluster?: boolean }) =>
      runCommand(servicesCommand(action, name, opts.cluster === true)),
    );
};
