// `netpulse replay <source> [--manifests FILE]... [--rules FILE] [--output jsonl|table]`: the
// anomalies the detector gives for past traffic. The source (flowSource.ts) yields the enriched
// batches the detector consumes live, and they go through the detector's own transform with a
// fresh engine: the same input and rules give the same anomalies and ids as the live detector.
// Nothing is published. Bad input: one line naming file:line and field, exit 2.
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as LogLevel from "effect/LogLevel";
import { nowMs } from "@netpulse/runtime/clock";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import type { Anomaly } from "@netpulse/runtime/records";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import type { StageOutput } from "@netpulse/runtime/stage/Stage";
import {
  defaultRules,
  detectTransform,
  DetectorEngine,
  loadRulesFile,
  policiesFromManifests,
  type RuleSet,
} from "@netpulse/detector";
import { anomalyRow, TABLE_HEADER } from "../anomalyText.js";
import { enrichedSource, type SourceOptions } from "../flowSource.js";
import { runCommand } from "../run.js";
import { writeOut } from "../stdout.js";
import { UsageError } from "../UsageError.js";

interface ReplayOptions extends SourceOptions {
  readonly rules?: string | undefined;
  readonly output: string;
}

/** The anomalies a stage output carries (decoded back from the batches the detector would publish). */
const anomaliesOf = (out: StageOutput): Anomaly[] => {
  const all: Anomaly[] = [];
  for (const p of out.publish)
    for (const m of p.messages) {
      const b = AnomalyCodec.decodeBatch(m.value);
      if (Either.isRight(b)) all.push(...b.right.records);
    }
  return all;
};

export const replay = (o: ReplayOptions) =>
  Effect.gen(function* () {
    if (o.output !== "jsonl" && o.output !== "table")
      return yield* new UsageError({ message: `--output: "${o.output}" must be jsonl or table` });
    const rules: RuleSet =
      o.rules === undefined
        ? defaultRules
        : yield* loadRulesFile(o.rules).pipe(
            Effect.mapError((e) => new UsageError({ message: `--rules ${e.message}` })),
          );
    const policies =
      o.manifests.length === 0
        ? undefined
        : yield* policiesFromManifests(o.manifests).pipe(
            Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })),
          );
    const source = yield* enrichedSource(o, yield* nowMs);
    const engine = new DetectorEngine();
    const transform = detectTransform(engine, () => ({ rules, policies }), "replay");
    if (o.output === "table") yield* writeOut(`${TABLE_HEADER}\n`);
    let rejected = 0;
    yield* runOffline(source, transform, (out: StageOutput) =>
      Effect.gen(function* () {
        for (const r of out.rejected) {
          rejected++;
          process.stderr.write(`skipped ${r.message.topic}@${r.message.offset}: ${r.reason}\n`);
        }
        const anomalies = anomaliesOf(out);
        if (anomalies.length === 0) return;
        const line = o.output === "jsonl" ? toJsonLine : anomalyRow;
        yield* writeOut(`${anomalies.map((a) => line(a)).join("\n")}\n`);
      }),
    ).pipe(
      Effect.catchTags({
        InputError: (e) => Effect.fail(new UsageError({ message: e.message })),
      }),
    );
    const s = engine.stats();
    process.stderr.write(
      `replay: ${s.anomalies} anomalies, ${s.pairsTracked} pairs, rules version ${rules.version}` +
        `${rejected > 0 ? `, ${rejected} messages skipped` : ""}\n`,
    );
  }).pipe(Effect.scoped, Effect.provide(pinoLogger("cli", LogLevel.Warning)));

const collect = (v: string, prev: string[]) => [...prev, v];

/** The source flags every command over past traffic takes. */
export const sourceFlags = (c: Command): Command =>
  c
    .option("--input <file>", "flows as JSON lines: raw (capture --stdout, needs --manifests) or enriched")
    .option("--from <time>", "the enriched topic from this time (RFC 3339, now, or -2h / -30m / -7d)")
    .option("--to <time>", "... up to this time (default now)")
    .option("--bus <kind>", "nats or kafka (default NETPULSE_BUS, else nats)")
    .option("--manifests <file>", "Namespaces, Pods, NetworkPolicies (YAML/JSON); repeatable", collect, []);

export const register = (program: Command): void => {
  sourceFlags(
    program
      .command("replay")
      .description("the detector over past traffic: the anomalies it gives, one per line; nothing is published"),
  )
    .option("--rules <file>", "rules file (YAML); default: the built-in defaults")
    .option("--output <format>", "jsonl or table", "jsonl")
    .action((opts: ReplayOptions) => runCommand(replay(opts)));
};
