// Runs a service's program as the process. The program receives `stopRequested`, which completes
// on the first SIGTERM/SIGINT: a service that drains on its own (the capture) waits on it; for
// any other, the first signal interrupts, so scoped resources close (bus drained, un-acked work
// redelivered). A second signal always interrupts. A failure prints one line; exit code 1.
import { Cause, Deferred, Effect, Fiber } from "effect";
import { pinoLogger } from "./observability/Logging.js";

export interface RunMainOptions {
  /** The program stops by itself once `stopRequested` completes; don't interrupt on the first signal. */
  readonly drainsOnStop?: boolean;
}

export const runMain = <E>(
  service: string,
  program: (stopRequested: Effect.Effect<void>) => Effect.Effect<void, E>,
  options: RunMainOptions = {},
): void => {
  const stop = Effect.runSync(Deferred.make<void>());
  const fiber = Effect.runFork(
    program(Deferred.await(stop)).pipe(
      Effect.provide(pinoLogger(service)),
      Effect.tapErrorCause((cause) =>
        Effect.sync(() => {
          if (Cause.isInterruptedOnly(cause)) return;
          process.stderr.write(`${service}: ${Cause.pretty(cause).split("\n")[0] ?? "failed"}\n`);
          process.exitCode = 1;
        }),
      ),
    ),
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      const first = Effect.runSync(Deferred.succeed(stop, undefined));
      if (!first || options.drainsOnStop !== true) Effect.runFork(Fiber.interrupt(fiber));
    });
};
