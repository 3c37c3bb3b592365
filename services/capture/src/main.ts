// Entry point of the capture service (DaemonSet, one per node): the configured bus, metrics,
// logger and the BPF loader around runCapture; SIGTERM/SIGINT stop the loader cleanly (it drains
// the ring buffer, still-open flows emit their last window, the last batch is handed to the bus).
import { Cause, Deferred, Effect, Fiber, Layer } from "effect";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { captureConfig } from "./CaptureConfig.js";
import { runCapture } from "./CaptureService.js";
import { Loader } from "./LoaderProcess.js";

// First signal: stop the loader and drain; a second one interrupts at once.
const stop = Effect.runSync(Deferred.make<void>());
const fiber = Effect.runFork(
  Effect.flatMap(captureConfig, (s) => runCapture(s, Deferred.await(stop))).pipe(
    Effect.provide(Layer.mergeAll(BusLive, Metrics.layer, Loader.layer)),
    Effect.provide(pinoLogger("capture")),
    Effect.scoped,
    Effect.tapErrorCause((cause) =>
      Effect.sync(() => {
        if (Cause.isInterruptedOnly(cause)) return;
        process.stderr.write(`capture: ${Cause.pretty(cause).split("\n")[0] ?? "failed"}\n`);
        process.exitCode = 1;
      }),
    ),
  ),
);
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    if (Effect.runSync(Deferred.isDone(stop))) void Effect.runFork(Fiber.interrupt(fiber));
    else Effect.runSync(Deferred.succeed(stop, undefined));
  });
