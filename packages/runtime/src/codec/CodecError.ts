// The one error type for bytes or JSON that don't make a valid record.
import * as Data from "effect/Data";

export type CodecErrorKind = "garbage" | "truncated" | "wrong_schema" | "invalid_record";

export class CodecError extends Data.TaggedError("CodecError")<{
  readonly kind: CodecErrorKind;
  readonly message: string;
  readonly cause?: unknown;
}> {}
