// `netpulse replay <source> [--manifests FILE]... [--rules FILE|live] [--output jsonl|table]`: the
// anomalies the detector gives for past traffic. The source (flowSource.ts) yields the enriched
// batches the detector consumes live, and they go through the detector's own per-message step
// with a fresh engine: the same input and rules give the same anomalies and ids as the live
// detector. `--rules live` judges each flow by the version in force at its moment
// (source/rulesInForce.ts). Nothing is published. Bad input: one line naming file:line and field,
// exit 2 (or counted with --skip-bad). The summary goes to stderr when the run ends, also on
// Ctrl-C, with what was found so far; a terminal sees progress meanwhile.
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as LogLevel from "effect/LogLevel";
import * as Stream from "effect/Stream";
import { nowMs } from "@netpulse/runtime/clock";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import type { StageOutput } from "@netpulse/runtime/stage/Stage";
import {
  defaultRules,
  detectMessage,
  DetectorEngine,
  loadRulesFile,
  policiesFromManifests,
  publishedAnomalies,
  rulesHistory,
  type RuleSet,
} from "@netpulse/detector";
import { anomalyRow, TABLE_HEADER } from "../anomalyText.js";
import { busLayer } from "../cliBus.js";
import { sourceOf, type SourceOptions } from "../flowSource.js";
import { runCommand } from "../run.js";
import { progressOnStderr } from "../source/progress.js";
import { withRulesInForce } from "../source/rulesInForce.js";
import { writeOut } from "../stdout.js";
import { UsageError } from "../UsageError.js";

interface ReplayOptions extends SourceOptions {
  readonly rules?: string | undefined;
  readonly output: string;
}

/** `--rules`: the built-in defaults, a file, or every version of the rules topic with its publish time. */
const rulesFrom = (o: ReplayOptions) =>
  Effect.gen(function* () {
    if (o.rules === undefined) return { fixed: defaultRules };
    if (o.rules === "live") return { history: yield* rulesHistory.pipe(Effect.provide(busLayer(o.bus))) };
    return {
      fixed: yield* loadRulesFile(o.rules).pipe(
        Effect.mapError((e) => new UsageError({ message: `--rules ${e.message}` })),
      ),
    };
  });

const versionsText = (used: ReadonlySet<number>): string => {
  const v = [...used].sort((a, b) => a - b);
  return v.length === 1 ? `rules version ${v[0]}` : `rules versions ${v.length === 0 ? "none" : v.join(", ")}`;
};

export const replay = (o: ReplayOptions) =>
  Effect.gen(function* () {
    if (o.output !== "jsonl" && o.output !== "table")
      return yield* new UsageError({ message: `--output: "${o.output}" must be jsonl or table` });
    const chosen = yield* rulesFrom(o);
    const policies =
      o.manifests.length === 0
        ? undefined
        : yield* policiesFromManifests(o.manifests).pipe(
            Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })),
          );
    const source = yield* sourceOf(o, yield* nowMs);
    const engine = new DetectorEngine();
    let rules: RuleSet = chosen.fixed ?? defaultRules;
    const usedVersions = new Set<number>();
    const step = detectMessage(engine, () => ({ rules, policies }), "replay");
    const judged =
      chosen.history === undefined
        ? Stream.map((message: Parameters<typeof step>[0]) => ({ message, rules }))
        : withRulesInForce(chosen.history, defaultRules);
    // the rules travel with each message (or piece of one) and are put in force just for its step
    // (not a Transform: a piece cut from a message is a new message, so there is no `from` to pass on)
    const outputs = source.stream.pipe(
      judged,
      Stream.map((j) => {
        rules = j.rules;
        usedVersions.add(j.rules.version);
        return step(j.message);
      }),
    );
    const progress = progressOnStderr("replay", source.window);
    let records = 0;
    let rejected = 0;
    const summary = (exit: Exit.Exit<unknown, unknown>) =>
      Effect.sync(() => {
        progress.clear();
        if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) return;
        const s = engine.stats();
        const skipped = source.skipped();
        process.stderr.write(
          `replay${Exit.isInterrupted(exit) ? " interrupted" : ""}: ${s.anomalies} anomalies, ${records} flows, ` +
            `${s.pairsTracked} pairs, ${versionsText(chosen.history === undefined ? new Set([rules.version]) : usedVersions)}` +
            `${rejected > 0 ? `, ${rejected} messages skipped` : ""}` +
            `${skipped.count > 0 ? `, ${skipped.count} bad ${o.clickhouse === true ? "rows" : "lines"} skipped (first: ${skipped.first ?? ""})` : ""}\n`,
        );
      });
    if (o.output === "table") yield* writeOut(`${TABLE_HEADER}\n`);
    yield* Stream.runForEach(outputs, (out: StageOutput) =>
      Effect.gen(function* () {
        records += out.recordsIn;
        for (const r of out.rejected) {
          rejected++;
          progress.clear();
          process.stderr.write(`skipped ${r.message.topic}@${r.message.offset}: ${r.reason}\n`);
        }
        progress.update(records, engine.stats().watermarkNs);
        const anomalies = publishedAnomalies(out);
        if (anomalies.length === 0) return;
        const line = o.output === "jsonl" ? toJsonLine : anomalyRow;
        progress.clear();
        yield* writeOut(`${anomalies.map((a) => line(a)).join("\n")}\n`);
      }),
    ).pipe(
      Effect.catchTags({
        InputError: (e) => Effect.fail(new UsageError({ message: e.message })),
      }),
      Effect.onExit(summary),
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
    .option("--clickhouse", "read --from/--to from ClickHouse netpulse.flows (by flow start) instead of the topic")
    .option(
      "--where <sql>",
      "with --clickhouse: an extra condition on netpulse.flows, your own SQL (e.g. \"src_namespace = 'shop'\")",
    )
    .option("--skip-bad", "count and skip malformed lines or rows instead of stopping (exit 2) at the first")
    .option("--manifests <file>", "Namespaces, Pods, NetworkPolicies (YAML/JSON); repeatable", collect, []);

export const register = (program: Command): void => {
  sourceFlags(
    program
      .command("replay")
      .description("the detector over past traffic: the anomalies it gives, one per line; nothing is published"),
  )
    .option(
      "--rules <file|live>",
      "rules file (YAML), or live: the versions in force at each moment; default: built-in",
    )
    .option("--output <format>", "jsonl or table", "jsonl")
    .action((opts: ReplayOptions) => runCommand(replay(opts)));
};
