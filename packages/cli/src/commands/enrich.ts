// `netpulse enrich --manifests FILE... --input FILE.jsonl`: enrich raw flows offline. The
// manifests feed the same metadata index the enricher service uses; each input line (the JSON of
// `netpulse capture --stdout`) comes out as one EnrichedFlow JSON line, in order, written in
// chunks. A bad line stops the run with its file:line and field (exit 2).
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { parseRawFlowJson, toJsonLine } from "@netpulse/runtime/codec/json";
import { parseNamedCidrs } from "@netpulse/enricher/index/CidrNames";
import { EnricherConfig } from "@netpulse/enricher/config";
import { enrichFlow } from "@netpulse/enricher/enrich/enrichFlow";
import { makeIndex } from "@netpulse/enricher/IndexService";
import { runManifestSource } from "@netpulse/enricher/manifests/ManifestSource";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

export interface EnrichOptions {
  readonly manifests: readonly string[];
  readonly input: string;
  readonly output: string;
  readonly labels?: string | undefined;
  readonly externalCidrs?: string | undefined;
}

/** Lines written to stdout per write call. */
const OUTPUT_CHUNK = 512;

const writeOut = (text: string) =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(text)) resume(Effect.void);
    else process.stdout.once("drain", () => resume(Effect.void));
  });

const inputLines = (input: string) =>
  Stream.suspend(() => {
    const stream = input === "-" ? process.stdin : createReadStream(input, { encoding: "utf8" });
    return Stream.fromAsyncIterable(
      createInterface({ input: stream, crlfDelay: Infinity }),
      (e) =>
        new UsageError({
          message: `--input ${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        }),
    );
  });

export const enrich = Effect.fn("enrich")(function* (o: EnrichOptions) {
  if (o.output !== "jsonl") return yield* new UsageError({ message: `--output: "${o.output}" must be jsonl` });
  if (o.manifests.length === 0) return yield* new UsageError({ message: "--manifests: at least one file required" });
  const cidrs = o.externalCidrs === undefined ? { cidrs: [] } : parseNamedCidrs(o.externalCidrs);
  if ("error" in cidrs) return yield* new UsageError({ message: `--external-cidrs: ${cidrs.error}` });
  const config = EnricherConfig.make({
    cidrs: cidrs.cidrs,
    ...(o.labels === undefined
      ? {}
      : {
          labelKeys: o.labels
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== ""),
        }),
  });
  const index = makeIndex(config);
  yield* Effect.scoped(
    runManifestSource({ files: o.manifests, labelKeys: config.labelKeys, watch: false }, (e) =>
      index.apply(e, Date.now()),
    ),
  ).pipe(Effect.mapError((e) => new UsageError({ message: `--manifests: ${e.message}` })));

  const where = o.input === "-" ? "stdin" : o.input;
  let lineNo = 0;
  yield* inputLines(o.input).pipe(
    Stream.map((line) => ({ line, n: ++lineNo })),
    Stream.filter(({ line }) => line.trim() !== ""),
    Stream.mapEffect(({ line, n }) =>
      Either.match(parseRawFlowJson(line, `${where}:${n}`), {
        onLeft: (e) => Effect.fail(new UsageError({ message: e.message })),
        onRight: (raw) => Effect.succeed(toJsonLine(enrichFlow(index, raw))),
      }),
    ),
    Stream.grouped(OUTPUT_CHUNK),
    Stream.runForEach((chunk) => writeOut(`${[...chunk].join("\n")}\n`)),
  );
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
