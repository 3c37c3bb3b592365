// Runs a command's Effect at the CLI edge: UsageError → one line + exit 2, other failures →
// one line + exit 1. Commands never call process.exit themselves.
// Ctrl-C (SIGINT) and SIGTERM interrupt the command's fiber, so its finalizers run (files closed,
// clients disconnected); a command that drains on its own (`capture --stdout`) gets the first
// signal as `stopRequested` instead and is interrupted only by a second one. Either way the exit
// code says a signal ended the command, as shells do: 130 for SIGINT, 143 for SIGTERM.
import * as Cause from "effect/Cause";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import { EXIT_ON_SIGNAL, onStopSignals } from "@netpulse/runtime/onStopSignals";
import { EXIT_USAGE } from "./UsageError.js";

/** After a signal, time left for output to flush once the command ended, should a client still hold the loop. */
const EXIT_GRACE_MS = 1_000;

const report = <A, E>(exit: Exit.Exit<A, E>): void => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return;
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

const run = async <A, E>(
  program: (stopRequested: Effect.Effect<void>) => Effect.Effect<A, E>,
  drainsOnStop: boolean,
): Promise<void> => {
  const stop = Effect.runSync(Deferred.make<void>());
  const fiber = Effect.runFork(program(Deferred.await(stop)));
  const signals = onStopSignals(fiber, stop, { drainsOnStop });
  const exit = await Effect.runPromise(Fiber.await(fiber));
  signals.remove();
  report(exit);
  const signal = signals.received();
  if (signal !== undefined) {
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = EXIT_ON_SIGNAL[signal];
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  } else if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) {
    process.exitCode = EXIT_ON_SIGNAL.SIGINT;
  }
};

/** Runs a command; SIGINT/SIGTERM interrupt it. */
export const runCommand = <A, E>(effect: Effect.Effect<A, E>): Promise<void> => run(() => effect, false);

/** Runs a command that stops by itself, output complete, once `stopRequested` completes (the first signal). */
export const runDraining = <A, E>(
  program: (stopRequested: Effect.Effect<void>) => Effect.Effect<A, E>,
): Promise<void> => run(program, true);
