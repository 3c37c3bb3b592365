// Runs a command's Effect at the CLI edge: UsageError → one line + exit 2, other failures →
// one line + exit 1. Commands never call process.exit themselves.
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import { EXIT_USAGE } from "./UsageError.js";

export const runCommand = async <A, E>(effect: Effect.Effect<A, E>): Promise<void> => {
  const exit = await Effect.runPromiseExit(effect);
  if (Exit.isSuccess(exit)) return;
  if (Cause.isInterruptedOnly(exit.cause)) {
    process.exitCode = 130;
    return;
  }
  const failure = Cause.failureOption(exit.cause);
  if (failure._tag === "Some") {
    const e = failure.value as { _tag?: string; message?: string };
    process.stderr.write(`netpulse: ${e.message ?? String(failure.value)}\n`);
    process.exitCode = e._tag === "UsageError" ? EXIT_USAGE : 1;
    return;
  }
  process.stderr.write(`netpulse: ${Cause.pretty(exit.cause).split("\n")[0] ?? "unexpected error"}\n`);
  process.exitCode = 1;
};
