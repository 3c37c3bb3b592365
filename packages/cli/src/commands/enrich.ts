// `netpulse enrich --manifests FILE... --input FILE.jsonl`: enrich raw flows offline with the
// enricher service's own transform: the file's lines become the Avro batches the capture
// publishes, the manifests feed the same metadata index, and each enriched batch comes out as
// JSON lines, in input order. A bad line stops the run with its file:line and field (exit 2).
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { EnrichedFlowCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { parseRawFlowJson, toJsonLine } from "@netpulse/runtime/codec/json";
import { jsonlBatches, readLines } from "@netpulse/runtime/stage/jsonlSource";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import type { StageOutput } from "@netpulse/runtime/stage/Stage";
import { Topics } from "@netpulse/runtime/topics";
import { offlineEnricher, parseNamedCidrs } from "@netpulse/enricher";
import { runCommand } from "../run.js";
import { writeOut } from "../stdout.js";
import { UsageError } from "../UsageError.js";

export interface EnrichOptions {
  readonly manifests: readonly string[];
  readonly input: string;
  readonly output: string;
  readonly labels?: string | undefined;
  readonly externalCidrs?: string | undefined;
}

export const enrich = Effect.fn("enrich")(function* (o: EnrichOptions) {
  if (o.output !== "jsonl") return yield* new UsageError({ message: `--output: "${o.output}" must be jsonl` });
  if (o.manifests.length === 0) return yield* new UsageError({ message: "--manifests: at least one file required" });
  const cidrs = o.externalCidrs === undefined ? { cidrs: [] } : parseNamedCidrs(o.externalCidrs);
  if ("error" in cidrs) return yield* new UsageError({ message: `--external-cidrs: ${cidrs.error}` });
  const transform = yield* offlineEnricher({
    manifests: o.manifests,
    cidrs: cidrs.cidrs,
    ...(o.labels === undefined
      ? {}
      : {
          labelKeys: o.labels
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== ""),
        }),
  }).pipe(Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })));

  const source = jsonlBatches(
    readLines(o.input, `--input ${o.input}`),
    o.input,
    { codec: RawFlowCodec, parse: parseRawFlowJson, eventNs: (f) => f.end_ns },
    { topic: Topics.flowsRaw },
  );
  yield* runOffline(source, transform, (out: StageOutput) =>
    Effect.forEach(
      out.publish.flatMap((p) => p.messages),
      (m) =>
        Either.match(EnrichedFlowCodec.decodeBatch(m.value), {
          onLeft: (e) => Effect.die(e),
          onRight: (b) => writeOut(`${b.records.map((r) => toJsonLine(r)).join("\n")}\n`),
        }),
      { discard: true },
    ),
  ).pipe(Effect.catchTag("InputError", (e) => Effect.fail(new UsageError({ message: e.message }))));
});

export const register = (program: Command): void => {
  program
    .command("enrich")
    .description(
      "enrich raw flows (JSON lines of `capture --stdout`) with Pod/workload/Service metadata from manifests",
    )
    .requiredOption(
      "--manifests <files...>",
      "YAML/JSON manifests (multi-document or kind: List, e.g. kubectl get pods,rs,ns -A -o yaml)",
    )
    .requiredOption("--input <file>", "raw flows, one JSON object per line (- for stdin)")
    .option("--output <format>", "output format (jsonl)", "jsonl")
    .option("--labels <keys>", "pod labels to copy, comma-separated (default app,app.kubernetes.io/name,version)")
    .option("--external-cidrs <spec>", "names for external IPs, e.g. vpc=10.0.0.0/8,internet=0.0.0.0/0")
    .action((opts: EnrichOptions) => runCommand(enrich(opts)));
};
