// `netpulse query`: one SQL statement on the configured ClickHouse with typed parameters. Reads
// (SELECT/WITH/SHOW/DESCRIBE/EXISTS) come back as JSONCompact for rendering; anything else runs
// as a command. Parameters are bound by the server where it can, else inlined as typed literals.
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { ClickHouse } from "../ClickHouse.js";
import { parseServerVersion } from "../ServerVersion.js";
import { render, type Answer, type OutputFormat } from "./output.js";
import { bindQuery } from "./params.js";

export class QueryUsageError extends Data.TaggedError("QueryUsageError")<{ readonly message: string }> {}

const READS = /^\s*(\(\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i;
const HAS_FORMAT = /\bFORMAT\s+[A-Za-z]+\s*;?\s*$/i;

/** First release with server-side `{name:Type}` parameters over HTTP. */
const SERVER_PARAMS_FROM = { major: 19, minor: 15 };

export const runQuery = Effect.fn("Query.run")(function* (
  sql: string,
  params: ReadonlyMap<string, string>,
  format: OutputFormat,
) {
  const ch = yield* ClickHouse;
  const statement = sql.trim().replace(/;\s*$/, "");
  if (statement === "") return yield* new QueryUsageError({ message: "the SQL is empty" });
  if (HAS_FORMAT.test(statement))
    return yield* new QueryUsageError({
      message: "leave out the FORMAT clause; choose the output with --output table|json|csv",
    });
  const bound = bindQuery(statement, params);
  if (Either.isLeft(bound)) return yield* new QueryUsageError({ message: bound.left });
  const version = parseServerVersion(yield* ch.queryText("SELECT version() FORMAT TabSeparated"));
  const serverBinds =
    version !== undefined &&
    (version.major > SERVER_PARAMS_FROM.major ||
      (version.major === SERVER_PARAMS_FROM.major && version.minor >= SERVER_PARAMS_FROM.minor));
  const hasParams = Object.keys(bound.right.params).length > 0;
  const text = serverBinds ? statement : bound.right.inlined;
  const options = serverBinds && hasParams ? { params: bound.right.params } : {};
  if (!READS.test(statement)) {
    yield* ch.queryText(text, options);
    return "";
  }
  const answer = JSON.parse(yield* ch.queryText(`${text}\nFORMAT JSONCompact`, options)) as Answer;
  return render(answer, format);
});
