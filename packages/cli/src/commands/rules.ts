// `netpulse rules apply FILE`: validate a rules file and publish it as the next version on the
// retained rules topic; every detector replica switches to it on its next message, without a
// restart. `netpulse rules show`: the version in force (the newest valid one on the topic, else
// the built-in defaults), as canonical JSON. A bad file: one line naming file, path and reason,
// exit 2, and nothing is published.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as LogLevel from "effect/LogLevel";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { defaultRules, newestRules, parseRules, publishRules, rulesDocument } from "@netpulse/detector";
import { busLayer } from "../cliBus.js";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

export const rulesApply = (file: string, o: { readonly bus?: string | undefined }) =>
  Effect.gen(function* () {
    const text = yield* Effect.tryPromise({
      try: () => readFile(file, "utf8"),
      catch: (e) =>
        new UsageError({ message: `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }),
    });
    const rules = yield* Either.match(parseRules(text, file), {
      onLeft: (e) => Effect.fail(new UsageError({ message: e.message })),
      onRight: Effect.succeed,
    });
    const published = yield* Effect.gen(function* () {
      yield* Effect.flatMap(Bus, (bus) => bus.provision(TopicSpecs.rules));
      return yield* publishRules(rules);
    }).pipe(Effect.provide(busLayer(o.bus)));
    process.stdout.write(`rules version ${published.version} published from ${file}\n`);
  }).pipe(Effect.provide(pinoLogger("cli", LogLevel.Warning)));

export const rulesShow = (o: { readonly bus?: string | undefined }) =>
  Effect.gen(function* () {
    const newest = yield* Effect.gen(function* () {
      yield* Effect.flatMap(Bus, (bus) => bus.provision(TopicSpecs.rules));
      return yield* newestRules;
    }).pipe(Effect.provide(busLayer(o.bus)));
    const rules = newest ?? defaultRules;
    process.stdout.write(`${JSON.stringify(rulesDocument(rules), null, 2)}\n`);
    if (newest === undefined) process.stderr.write("no version published: the built-in defaults are in force\n");
  }).pipe(Effect.provide(pinoLogger("cli", LogLevel.Warning)));

export const register = (program: Command): void => {
  const rules = program.command("rules").description("the detector's rules, changed at runtime");
  rules
    .command("apply <file>")
    .description("validate a rules file (YAML) and publish it as the next version")
    .option("--bus <kind>", "nats or kafka (default NETPULSE_BUS, else nats)")
    .action((file: string, o: { bus?: string }) => runCommand(rulesApply(file, o)));
  rules
    .command("show")
    .description("the rules version in force, as JSON")
    .option("--bus <kind>", "nats or kafka (default NETPULSE_BUS, else nats)")
    .action((o: { bus?: string }) => runCommand(rulesShow(o)));
};
