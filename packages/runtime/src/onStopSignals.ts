// SIGTERM/SIGINT handling shared by the services (runMain) and the CLI's commands: the first signal
// asks the program to stop and, unless it drains on its own, interrupts its fiber so finalizers
// run; the next signal always interrupts; a third ends the process at once (a finalizer that hangs).
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";

export interface StopOptions {
  /** The program stops by itself once `stopRequested` completes; don't interrupt on the first signal. */
  readonly drainsOnStop?: boolean;
}

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The exit code of a process a signal ended, as shells report it: 128 + the signal's number. */
export const EXIT_ON_SIGNAL: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface StopSignals {
  /** The first stop signal received, if any. */
  readonly received: () => StopSignal | undefined;
  /** Puts Node's default handling back (a signal then ends the process at once). */
  readonly remove: () => void;
}

/**
 * Handles SIGTERM/SIGINT for a running program: the first signal completes `stop` and, unless the
 * program drains on its own, interrupts `fiber` so its finalizers run; the next one interrupts.
 */
export const onStopSignals = <A, E>(
  fiber: Fiber.RuntimeFiber<A, E>,
  stop: Deferred.Deferred<void>,
  options: StopOptions = {},
): StopSignals => {
  let first: StopSignal | undefined;
  let count = 0;
  const handler = (signal: StopSignal) => {
    first ??= signal;
    if (++count >= 3) process.exit(EXIT_ON_SIGNAL[first]);
    const isFirst = Effect.runSync(Deferred.succeed(stop, undefined));
    if (!isFirst || options.drainsOnStop !== true) Effect.runFork(Fiber.interrupt(fiber));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return {
    received: () => first,
    remove: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, handler);
    },
  };
};
