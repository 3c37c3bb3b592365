// Bad input from the user: one line on stderr naming what was wrong, exit code 2.
import * as Data from "effect/Data";

export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

export const EXIT_USAGE = 2;
