// The Bus every service runs with: NETPULSE_BUS picks NATS JetStream or Kafka, the rest of the
// NETPULSE_NATS_* / NETPULSE_KAFKA_* environment configures it (BusConfig.ts). A bad variable
// fails the layer at start with a message naming it. Only the chosen bus's client library is
// loaded (kafkajs alone is ~140 modules a NATS deployment would otherwise carry in its heap).
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import type * as ConfigError from "effect/ConfigError";
import type { Bus, BusError } from "./Bus.js";
import { busSettings, type BusSettings } from "./BusConfig.js";

export const busLayer = (settings: BusSettings): Layer.Layer<Bus, BusError> =>
  Layer.unwrapEffect(
    settings._tag === "kafka"
      ? Effect.promise(() => import("./KafkaBus.js")).pipe(Effect.map((m) => m.KafkaBus.layer(settings)))
      : Effect.promise(() => import("./NatsBus.js")).pipe(Effect.map((m) => m.NatsBus.layer(settings))),
  );

export const BusLive: Layer.Layer<Bus, BusError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(busSettings, busLayer),
);
