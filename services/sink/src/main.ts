// Entry point of the sink service: launches the service layer with the configured bus, metrics
// and logger; SIGTERM/SIGINT interrupt it (in-flight batches are un-acked and will be redelivered).
import { Effect, Fiber, Layer } from "effect";
import { busSettings } from "@netpulse/runtime/bus/BusConfig";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { runSink, writerLayer } from "./SinkService.js";
import { sinkConfig } from "./SinkConfig.js";

const BusLive = Layer.unwrapEffect(
  Effect.map(busSettings, (s) => (s._tag === "kafka" ? KafkaBus.layer(s) : NatsBus.layer(s))),
);

const program = Effect.flatMap(sinkConfig, (s) => runSink(s).pipe(Effect.provide(writerLayer(s)))).pipe(
  Effect.provide(Layer.mergeAll(BusLive, Metrics.layer)),
  Effect.provide(pinoLogger("sink")),
  Effect.scoped,
);

const fiber = Effect.runFork(program);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    Effect.runFork(Fiber.interrupt(fiber));
  });
}
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !exit.cause.toString().includes("Interrupt")) {
    process.stderr.write(`sink: ${exit.cause.toString().split("\n")[0] ?? "failed"}\n`);
    process.exitCode = 1;
  }
});
