// `netpulse sink --input FILE.jsonl`: load flow records from a file into ClickHouse through the
// sink's exactly-once writer (schema migrated first). Loading the same file again adds nothing.
// Bad lines → exit 2 naming file:line; ClickHouse unreachable or rows refused → exit 1.
import { access } from "node:fs/promises";
import type { Command } from "commander";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as LogLevel from "effect/LogLevel";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { ClickHouse, clickHouseConfig } from "@netpulse/clickhouse";
import { loadFile, sinkDefaults as defaults, SinkWriter } from "@netpulse/sink";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

class LoadRefused extends Data.TaggedError("LoadRefused")<{ readonly message: string }> {}

export const sinkLoad = (input: string) =>
  Effect.gen(function* () {
    yield* Effect.tryPromise({
      try: () => access(input),
      catch: () => new UsageError({ message: `--input ${input}: no such readable file` }),
    });
    const settings = yield* clickHouseConfig;
    const layer = SinkWriter.layer({ baseMs: 200, maxMs: 2_000, retries: 5 }).pipe(
      Layer.provideMerge(Layer.merge(ClickHouse.layerWith(settings), Metrics.layerTest)),
    );
    const summary = yield* loadFile(input, defaults.batchRows).pipe(
      Effect.provide(layer),
      Effect.catchTag("LoadInputError", (e) => Effect.fail(new UsageError({ message: e.message }))),
    );
    process.stdout.write(
      `${input}: ${summary.records} records, ${summary.inserted} inserted, ${summary.duplicates} already stored, ` +
        `${summary.refused.length} refused\n`,
    );
    for (const r of summary.refused) process.stderr.write(`refused: ${r}\n`);
    if (summary.refused.length > 0)
      return yield* Effect.fail(
        new LoadRefused({ message: `${summary.refused.length} records refused by ClickHouse (listed above)` }),
      );
  }).pipe(Effect.scoped, Effect.provide(pinoLogger("cli", LogLevel.Warning)));

export const register = (program: Command): void => {
  program
    .command("sink")
    .description("load flow records (JSON lines of `capture --stdout` or `enrich`) into ClickHouse, exactly once")
    .requiredOption("--input <file>", "JSON lines file of raw or enriched flows")
    .action((o: { input: string }) => runCommand(sinkLoad(o.input)));
};
