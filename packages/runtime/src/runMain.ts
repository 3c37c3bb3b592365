// Runs a service's program as the process. The program receives `stopRequested`, which completes
// on the first SIGTERM/SIGINT: a service that drains on its own (the capture) waits on it; for
// any other, the first signal interrupts, so scoped resources close (bus drained, un-acked work
// redelivered). A second signal always interrupts. A failure prints one line; exit code 1.
// Once the program has ended, the process ends within a second even if a library still holds a
// timer: kafkajs keeps retrying a broker it could not reach for about 30 s after its connect was
// interrupted, which kept a stopped service alive past a pod's 30 s grace.
import * as Cause from "effect/Cause";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import { onStopSignals, type StopOptions } from "./onStopSignals.js";
import { pinoLogger } from "./observability/Logging.js";

export type RunMainOptions = StopOptions;

/** Time left for log lines and sockets to flush after the program ended. */
const EXIT_GRACE_MS = 1_000;

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
  fiber.addObserver(() => setTimeout(() => process.exit(), EXIT_GRACE_MS).unref());
  onStopSignals(fiber, stop, options);
};
