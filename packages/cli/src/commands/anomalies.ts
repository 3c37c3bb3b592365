// `netpulse anomalies [--follow] [--since 10m] [--kind K] [--namespace NS] [--output table|json]`:
// the anomaly topic for people (a table: time, kind, severity, status, pair, observed vs
// threshold or baseline, cause) or machines (JSON lines with the schema's field names). With
// --follow it keeps reading new anomalies until Ctrl-C.
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as LogLevel from "effect/LogLevel";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { nowMs } from "@netpulse/runtime/clock";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import type { Anomaly } from "@netpulse/runtime/records";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { anomalyReader, followEvery } from "../anomalyReader.js";
import { anomalyRow, TABLE_HEADER } from "../anomalyText.js";
import { busLayer } from "../cliBus.js";
import { parseTime } from "../flowSource.js";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

interface AnomaliesOptions {
  readonly follow?: boolean;
  readonly since: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly bus?: string;
  readonly output: string;
}

export const anomalies = (o: AnomaliesOptions) =>
  Effect.gen(function* () {
    if (o.output !== "table" && o.output !== "json")
      return yield* new UsageError({ message: `--output: "${o.output}" must be table or json` });
    const since = parseTime(/^(-|now$|\d{4}-)/.test(o.since) ? o.since : `-${o.since}`, yield* nowMs);
    if (since === undefined)
      return yield* new UsageError({ message: `--since: "${o.since}" is not 10m / 2h / 7d, -10m or RFC 3339` });
    const keep = (a: Anomaly) =>
      (o.kind === undefined || a.kind === o.kind) &&
      (o.namespace === undefined || a.src.namespace === o.namespace || a.dst.namespace === o.namespace);
    const print = (as: ReadonlyArray<Anomaly>) => {
      const lines = as.filter(keep).map((a) => (o.output === "json" ? toJsonLine(a) : anomalyRow(a)));
      if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
    };
    if (o.output === "table") process.stdout.write(`${TABLE_HEADER}\n`);
    const bus = yield* Bus;
    yield* bus.provision(TopicSpecs.anomalies);
    const readNew = anomalyReader(bus, since, print);
    yield* readNew;
    if (o.follow === true) yield* followEvery(readNew);
  }).pipe(Effect.provide(busLayer(o.bus)), Effect.provide(pinoLogger("cli", LogLevel.Warning)));

export const register = (program: Command): void => {
  program
    .command("anomalies")
    .description("anomalies from the anomaly topic: a table, or JSON lines; --follow keeps reading")
    .option("--follow", "keep reading new anomalies until Ctrl-C")
    .option("--since <age>", "how far back to start: 10m, 2h, 7d, or RFC 3339", "1h")
    .option("--kind <kind>", "only this kind (rtt_high, policy_denied, ...)")
    .option("--namespace <ns>", "only anomalies with an end in this namespace")
    .option("--bus <kind>", "nats or kafka (default NETPULSE_BUS, else nats)")
    .option("--output <format>", "table or json", "table")
    .action((opts: AnomaliesOptions) => runCommand(anomalies(opts)));
};
