// Entry point of the capture service (DaemonSet, one per node): the configured bus, metrics,
// logger and the BPF loader around runCapture; SIGTERM/SIGINT stop the loader cleanly.
import { Cause, Effect, Fiber, Layer } from "effect";
import { busSettings } from "@netpulse/runtime/bus/BusConfig";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { captureConfig } from "./CaptureConfig.js";
import { runCapture } from "./CaptureService.js";
import { Loader } from "./LoaderProcess.js";

const BusLive = Layer.unwrapEffect(
  Effect.map(busSettings, (s) => (s._tag === "kafka" ? KafkaBus.layer(s) : NatsBus.layer(s))),
);

const fiber = Effect.runFork(
  Effect.flatMap(captureConfig, runCapture).pipe(
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
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void Effect.runFork(Fiber.interrupt(fiber)));
