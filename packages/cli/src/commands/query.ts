// `netpulse query "SQL" [--param name=value]... [--output table|json|csv]`: SQL on the configured
// ClickHouse (NETPULSE_CLICKHOUSE_*). Parameters are `{name:Type}` placeholders, checked against
// their type and never pasted into the SQL as raw text. Usage errors exit 2, server errors 1.
import type { Command } from "commander";
import * as Effect from "effect/Effect";
import { ClickHouse, clickHouseConfig, runQuery, type OutputFormat } from "@netpulse/clickhouse";
import { runCommand } from "../run.js";
import { UsageError } from "../UsageError.js";

const FORMATS: ReadonlyArray<OutputFormat> = ["table", "json", "csv"];

export const parseParams = (pairs: ReadonlyArray<string>): Map<string, string> | UsageError => {
  const out = new Map<string, string>();
  for (const p of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(p);
    if (m?.[1] === undefined || m[2] === undefined)
      return new UsageError({ message: `--param "${p}": expected name=value` });
    if (out.has(m[1])) return new UsageError({ message: `--param ${m[1]} given twice` });
    out.set(m[1], m[2]);
  }
  return out;
};

export const query = (sql: string, o: { readonly param: ReadonlyArray<string>; readonly output: string }) =>
  Effect.gen(function* () {
    const format = FORMATS.find((f) => f === o.output);
    if (format === undefined)
      return yield* new UsageError({ message: `--output: "${o.output}" must be table, json or csv` });
    const params = parseParams(o.param);
    if (params instanceof UsageError) return yield* params;
    const settings = yield* clickHouseConfig;
    const text = yield* runQuery(sql, params, format).pipe(
      Effect.provide(ClickHouse.layerWith(settings)),
      Effect.catchTag("QueryUsageError", (e) => Effect.fail(new UsageError({ message: e.message }))),
    );
    process.stdout.write(text);
  }).pipe(Effect.scoped);

export const register = (program: Command): void => {
  program
    .command("query")
    .description("run SQL on ClickHouse with typed {name:Type} parameters")
    .argument("<sql>", "one SQL statement, without a FORMAT clause")
    .option(
      "--param <name=value>",
      "value for a {name:Type} placeholder (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--output <format>", "table | json | csv", "table")
    .action((sql: string, o: { param: string[]; output: string }) => runCommand(query(sql, o)));
};
