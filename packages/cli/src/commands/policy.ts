// `netpulse policy check`: NetworkPolicy verdicts from manifests, without a cluster. Reads the
// manifests and probes, reports invalid objects on stderr (and goes on), then prints one line per
// probe in input order (JSON or a sentence). Bad probes, unknown pods, no usable input → exit 2.
// `netpulse policy what-if` (whatif/) is registered here too.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import {
  engineFromManifests,
  formatIssue,
  loadManifests,
  makeProbe,
  parseProbes,
  verdictRecord,
  verdictText,
  type ManifestIssue,
  type ProbeLine,
} from "@netpulse/policy";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";
import { policyWhatIf, type WhatIfOptions } from "../whatif/policyWhatIf.js";
import { sourceFlags } from "./replay.js";

export interface PolicyCheckOptions {
  readonly manifests: readonly string[];
  readonly probes?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly port?: string | undefined;
  readonly protocol?: string | undefined;
  readonly output?: string | undefined;
}

export interface PolicyCheckResult {
  /** One line per probe, in input order. */
  readonly lines: readonly string[];
  /** Invalid or skipped manifest objects, one line each. */
  readonly warnings: readonly string[];
}

const read = (file: string, flag: string) =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (e) =>
      new UsageError({ message: `${flag} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }),
  });

/** One line per invalid object: its field problems joined. */
const groupIssues = (issues: readonly ManifestIssue[]): string[] => {
  const out: string[] = [];
  let prev: ManifestIssue | undefined;
  for (const i of issues) {
    if (prev !== undefined && prev.file === i.file && prev.object === i.object && prev.line === i.line)
      out[out.length - 1] += `; ${i.path === "" ? "" : `${i.path}: `}${i.message}`;
    else out.push(`invalid: ${formatIssue(i)}`);
    prev = i;
  }
  return out;
};

const probesFrom = (o: PolicyCheckOptions): Effect.Effect<ProbeLine[], UsageError> => {
  if (o.probes !== undefined) {
    if (o.from !== undefined || o.to !== undefined || o.port !== undefined)
      return Effect.fail(new UsageError({ message: "--probes cannot be combined with --from/--to/--port" }));
    const file = o.probes;
    return read(file, "--probes").pipe(
      Effect.flatMap((text) => Either.mapLeft(parseProbes(text, file), (e) => new UsageError({ message: e.message }))),
    );
  }
  if (o.from === undefined || o.to === undefined || o.port === undefined)
    return Effect.fail(new UsageError({ message: "give --probes FILE, or --from, --to and --port" }));
  return Either.match(makeProbe(o.from, o.to, o.port, o.protocol, "flags"), {
    onLeft: (e) => Effect.fail(new UsageError({ message: e.message.replace(/^flags: (\w+):/, "--$1:") })),
    onRight: (probe) =>
      Effect.succeed([
        { probe, fields: { from: o.from, to: o.to, port: probe.port, protocol: probe.protocol }, where: "flags" },
      ]),
  });
};

export const policyCheck = Effect.fn("policy.check")(function* (o: PolicyCheckOptions) {
  const output = o.output ?? "jsonl";
  if (output !== "jsonl" && output !== "text")
    return yield* Effect.fail(new UsageError({ message: `--output: "${output}" must be jsonl or text` }));
  if (o.manifests.length === 0)
    return yield* Effect.fail(new UsageError({ message: "--manifests: at least one file required" }));
  const sources = yield* Effect.forEach(o.manifests, (file) =>
    Effect.map(read(file, "--manifests"), (text) => ({ file, text })),
  );
  const loaded = loadManifests(sources);
  const warnings = [...groupIssues(loaded.issues), ...loaded.skipped.map((s) => `note: ${formatIssue(s)}`)];
  if (loaded.namespaces.length + loaded.pods.length + loaded.policies.length === 0)
    return yield* Effect.fail(
      new UsageError({
        message: `--manifests: no usable Namespace, Pod or NetworkPolicy objects (${loaded.issues.length} problems)${warnings.length > 0 ? `; first: ${warnings[0]}` : ""}`,
      }),
    );
  const probes = yield* probesFrom(o);
  const engine = engineFromManifests(loaded);
  const lines: string[] = [];
  for (const { probe, fields, where: at } of probes) {
    const result = engine.evaluate(probe);
    if (Either.isLeft(result)) {
      const where = o.probes === undefined ? (result.left.ref === probe.src ? "--from" : "--to") : at;
      return yield* Effect.fail(new UsageError({ message: `${where}: ${result.left.message}` }));
    }
    lines.push(
      output === "text" ? verdictText(probe, result.right) : JSON.stringify(verdictRecord(fields, probe, result.right)),
    );
  }
  return { lines, warnings } satisfies PolicyCheckResult;
});

const writeAll = (result: PolicyCheckResult) =>
  Effect.sync(() => {
    for (const w of result.warnings) process.stderr.write(`netpulse: ${w}\n`);
    if (result.lines.length > 0) process.stdout.write(`${result.lines.join("\n")}\n`);
  });

export const register = (program: Command): void => {
  const policy = program.command("policy").description("NetworkPolicy tools");
  policy
    .command("check")
    .description("NetworkPolicy verdicts for probes, from manifests (no cluster needed)")
    .requiredOption(
      "--manifests <files...>",
      "YAML/JSON manifests: Namespace, Pod, NetworkPolicy (multi-document or List)",
    )
    .option("--probes <file>", 'JSONL probes: {"from","to","port","protocol"} per line')
    .option("--from <ref>", "source: namespace/pod or an IP")
    .option("--to <ref>", "destination: namespace/pod or an IP")
    .option("--port <n>", "destination port")
    .option("--protocol <p>", "TCP (default), UDP or SCTP")
    .option("--output <format>", "jsonl or text", "jsonl")
    .action((opts: PolicyCheckOptions) => runCommand(Effect.flatMap(policyCheck(opts), writeAll)));
  sourceFlags(
    policy
      .command("what-if")
      .description("observed traffic under the policies in force and under candidate policies: what they would change"),
  )
    .requiredOption("--candidate <files...>", "candidate NetworkPolicies (YAML/JSON); repeatable")
    .option(
      "--mode <mode>",
      "add: same namespace/name replaces, a new name adds; replace: a candidate's namespace keeps only the candidates",
      "add",
    )
    .option("--output <format>", "text or json", "text")
    .action((opts: WhatIfOptions) => runCommand(policyWhatIf(opts)));
};
