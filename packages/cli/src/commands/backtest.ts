// `netpulse backtest <source> [--manifests FILE]... --rules CANDIDATE [--baseline-rules CURRENT]
// [--output text|json]`: what a candidate rule set would have changed on past traffic. One pass
// over the source (flowSource.ts, the same flags as replay): each message goes through two fresh
// detector engines, the baseline's and the candidate's, with `detectMessage` (the live transform's
// own step), and the two sides' episodes are compared (backtest/report.ts). Nothing is published.
// Baseline: --baseline-rules; else, over a window (the topic, or --clickhouse), the anomalies the
// detector recorded on the anomaly topic over the same window; else (a file) the built-in
// defaults. Progress on a terminal; Ctrl-C prints the report so far. Bad input: one line, exit 2
// (or, with --skip-bad, counted in the report).
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as LogLevel from "effect/LogLevel";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { nowMs } from "@netpulse/runtime/clock";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import { perMessage } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import {
  defaultRules,
  detectMessage,
  DetectorEngine,
  loadRulesFile,
  policiesFromManifests,
  publishedAnomalies,
  type RuleSet,
} from "@netpulse/detector";
import { EpisodeLog } from "../backtest/EpisodeLog.js";
import { recordedEpisodes } from "../backtest/recordedEpisodes.js";
import { buildReport, reportJson } from "../backtest/report.js";
import { reportText } from "../backtest/reportText.js";
import { sourceOf, type SourceOptions } from "../flowSource.js";
import { runCommand } from "../run.js";
import { progressOnStderr } from "../source/progress.js";
import { writeOut } from "../stdout.js";
import { UsageError } from "../UsageError.js";
import { sourceFlags } from "./replay.js";

interface BacktestOptions extends SourceOptions {
  readonly rules?: string | undefined;
  readonly baselineRules?: string | undefined;
  readonly output: string;
}

const DEFAULTS_LABEL = "built-in defaults";

/** The earliest flow start in an enriched batch: where the report's window begins. */
const earliestStart = (m: BusMessage): bigint | undefined => {
  if (m.topic !== Topics.flowsEnriched) return undefined;
  const b = EnrichedFlowCodec.decodeBatch(m.value);
  if (Either.isLeft(b)) return undefined;
  let first: bigint | undefined;
  for (const f of b.right.records) if (first === undefined || f.start_ns < first) first = f.start_ns;
  return first;
};

const rulesFile = (file: string, flag: string) =>
  loadRulesFile(file).pipe(Effect.mapError((e) => new UsageError({ message: `${flag} ${e.message}` })));

export const backtest = (o: BacktestOptions) =>
  Effect.gen(function* () {
    if (o.output !== "text" && o.output !== "json")
      return yield* new UsageError({ message: `--output: "${o.output}" must be text or json` });
    if (o.rules === undefined)
      return yield* new UsageError({ message: "--rules CANDIDATE is required (the rules file to try)" });
    const candidate = yield* rulesFile(o.rules, "--rules");
    const baseline: RuleSet =
      o.baselineRules === undefined ? defaultRules : yield* rulesFile(o.baselineRules, "--baseline-rules");
    const policies =
      o.manifests.length === 0
        ? undefined
        : yield* policiesFromManifests(o.manifests).pipe(
            Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })),
          );
    const source = yield* sourceOf(o, yield* nowMs);
    // over a window (topic or ClickHouse), with no --baseline-rules, the baseline is what the
    // detector recorded then (read first, so an interrupted run still has it)
    const recorded =
      source.window !== undefined && o.baselineRules === undefined
        ? yield* recordedEpisodes(o.bus, source.window.fromMs, source.window.toMs)
        : undefined;
    if (recorded !== undefined && recorded.undecodable > 0)
      process.stderr.write(`backtest: ${recorded.undecodable} messages on ${Topics.anomalies} did not decode\n`);

    // one engine per rule set, same policies, same messages in the same order: only the rules differ
    const runs = (recorded === undefined ? [baseline, candidate] : [candidate]).map((rules) => {
      const engine = new DetectorEngine();
      return { engine, log: new EpisodeLog(), step: detectMessage(engine, () => ({ rules, policies }), "backtest") };
    });
    let messages = 0;
    let records = 0;
    let rejected = 0;
    let fromNs: bigint | undefined;

    const printReport = Effect.suspend(() => {
      const cand = runs[runs.length - 1] as (typeof runs)[number];
      const toNs = cand.engine.stats().watermarkNs;
      const from = fromNs ?? toNs;
      const baseSide =
        recorded === undefined
          ? { rules: o.baselineRules ?? DEFAULTS_LABEL, rulesVersion: baseline.version, log: runs[0]?.log }
          : { rules: `recorded (${Topics.anomalies})`, rulesVersion: null, log: recorded.log };
      const { report, added, removed } = buildReport({
        fromNs: from,
        toNs,
        messages,
        records,
        skippedMessages: rejected,
        skippedLines: source.skipped().count,
        baseline: {
          rules: baseSide.rules,
          rulesVersion: baseSide.rulesVersion,
          // recorded episodes that started within the replayed traffic only
          episodes: (baseSide.log?.episodes() ?? []).filter(
            (e) => recorded === undefined || (e.startNs >= from && e.startNs <= toNs),
          ),
        },
        candidate: { rules: o.rules ?? "", rulesVersion: candidate.version, episodes: cand.log.episodes() },
      });
      progress.clear();
      return writeOut(o.output === "json" ? reportJson(report) : reportText(report, added, removed));
    });

    const progress = progressOnStderr("backtest", source.window);
    const transform = perMessage((m) =>
      Effect.sync(() => ({ startNs: earliestStart(m), outs: runs.map((r) => r.step(m)) })),
    );
    yield* runOffline(source.stream, transform, ({ startNs, outs }) =>
      Effect.sync(() => {
        messages++;
        if (startNs !== undefined && (fromNs === undefined || startNs < fromNs)) fromNs = startNs;
        const [first] = outs;
        for (const r of first?.rejected ?? []) {
          rejected++;
          progress.clear();
          process.stderr.write(`skipped ${r.message.topic}@${r.message.offset}: ${r.reason}\n`);
        }
        records += first?.recordsIn ?? 0;
        outs.forEach((out, i) => runs[i]?.log.add(publishedAnomalies(out)));
        progress.update(records, runs[0]?.engine.stats().watermarkNs ?? 0n);
      }),
    ).pipe(
      Effect.catchTags({ InputError: (e) => Effect.fail(new UsageError({ message: e.message })) }),
      // Ctrl-C: the report so far
      Effect.onInterrupt(() =>
        Effect.zipRight(
          Effect.sync(() => process.stderr.write("backtest: interrupted, the report so far:\n")),
          printReport,
        ),
      ),
    );
    yield* printReport;
  }).pipe(Effect.scoped, Effect.provide(pinoLogger("cli", LogLevel.Warning)));

export const register = (program: Command): void => {
  sourceFlags(
    program
      .command("backtest")
      .description(
        "a candidate rule set against the baseline on past traffic, in one pass: episodes per kind, " +
          "added and removed, alert-minutes per pair, flapping, a timeline; nothing is published",
      ),
  )
    .option("--rules <file>", "the candidate rules file (YAML); required")
    .option(
      "--baseline-rules <file>",
      "the rules to compare against (YAML); default: over a window (--from, --clickhouse), the anomalies " +
        "the detector recorded on the anomaly topic then; over a file, the built-in defaults",
    )
    .option("--output <format>", "text or json (one document, stable bytes)", "text")
    .action((opts: BacktestOptions) => runCommand(backtest(opts)));
};
