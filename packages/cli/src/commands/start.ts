// `netpulse start [--bus nats|kafka] [--duration S] [--json]` (what `npm start` runs): the local
// all-in-one on this machine's kernel. The work is in ../demo/ (runDemo.ts reads top to bottom);
// this file checks the flags. The first Ctrl-C ends the demo as the duration would (summary, then
// teardown); a second one skips the summary, and the teardown still runs.
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import { runDemo } from "../demo/runDemo.js";
import { runDraining } from "../run.js";
import { UsageError } from "../UsageError.js";

interface StartOptions {
  readonly bus: string;
  readonly duration?: string;
  readonly json?: boolean;
}

export const start = (o: StartOptions, stopRequested: Effect.Effect<void>) =>
  Effect.gen(function* () {
    if (o.bus !== "nats" && o.bus !== "kafka")
      return yield* new UsageError({ message: `--bus: "${o.bus}" must be nats or kafka` });
    const durationS = o.duration === undefined ? undefined : Number(o.duration);
    if (durationS !== undefined && !(Number.isInteger(durationS) && durationS > 0))
      return yield* new UsageError({ message: `--duration: "${o.duration}" must be a whole number of seconds > 0` });
    yield* runDemo({ bus: o.bus, durationS, json: o.json === true }, stopRequested);
  });

export const register = (program: Command): void => {
  program
    .command("start")
    .description("the live demo on this kernel: servers, the four services, a small cluster in network namespaces")
    .option("--bus <kind>", "nats or kafka", "nats")
    .option("--duration <seconds>", "stop by itself after this many seconds (default: until Ctrl-C)")
    .option("--json", "make the last stdout line a JSON summary (flows, anomalies_by_kind, clickhouse_flow_rows)")
    .addHelpText(
      "after",
      "\nNeeds root, a kernel with BTF and the BPF loader built (npm start builds it). Logs and state: .netpulse/demo/.\n" +
        "Ctrl-C (or the end of --duration) removes everything it made; a run killed with -9 is cleaned up by the next.",
    )
    .action((o: StartOptions) => runDraining((stop) => start(o, stop)));
};
