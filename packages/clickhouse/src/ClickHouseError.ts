// The one error type for talking to ClickHouse, classified so callers know what to do:
// `unavailable` → keep the data and retry later; `rejected` → the data itself is bad (bisect the
// batch, dead-letter the row); `failed` → any other server error (retried, logged loudly).
import * as Data from "effect/Data";

export type ClickHouseErrorKind = "unavailable" | "rejected" | "failed";

export class ClickHouseError extends Data.TaggedError("ClickHouseError")<{
  readonly op: string;
  readonly kind: ClickHouseErrorKind;
  /** ClickHouse exception code when the server answered with one. */
  readonly code: number | undefined;
  readonly message: string;
  readonly cause?: unknown;
}> {}

// Exception codes that mean "this data cannot go in" (parse, type, range, check failures), as
// opposed to the server being unwell. Stable across 18.x … 25.x.
const DATA_ERROR_CODES = new Set([6, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 131, 190, 321, 395, 441, 442, 469]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The server's exception code, from either the modern or the 18.x error text. */
export const serverCode = (message: string): number | undefined => {
  const m = /Code: (\d+)/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

/** First line of the server's exception text, without the 18.x `e.what()` noise. */
const tidy = (message: string): string =>
  (message.split("\n")[0] ?? message)
    .replace(/, e\.what\(\) = DB::Exception\s*$/, "")
    .replace(/e\.displayText\(\) = /, "")
    .trim();

export const classify = (op: string, cause: unknown): ClickHouseError => {
  const message = cause instanceof Error ? cause.message : String(cause);
  const sysCode = (cause as { code?: unknown } | undefined)?.code;
  const code = serverCode(message);
  if (code === undefined) {
    const network =
      (typeof sysCode === "string" && NETWORK_CODES.has(sysCode)) ||
      /socket hang up|ECONNREFUSED|ECONNRESET|Timeout error|timed out|other side closed|EPIPE/i.test(message);
    return new ClickHouseError({
      op,
      kind: network ? "unavailable" : "failed",
      code: undefined,
      message: `${op}: ${network ? "ClickHouse unavailable: " : ""}${tidy(message)}`,
      cause,
    });
  }
  return new ClickHouseError({
    op,
    kind: DATA_ERROR_CODES.has(code) ? "rejected" : "failed",
    code,
    message: `${op}: ${tidy(message)}`,
    cause,
  });
};
