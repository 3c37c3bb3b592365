// The Bus every service runs with: NETPULSE_BUS picks NATS JetStream or Kafka, the rest of the
// NETPULSE_NATS_* / NETPULSE_KAFKA_* environment configures it (BusConfig.ts). A bad variable
// fails the layer at start with a message naming it.
import { Effect, Layer, type ConfigError } from "effect";
import type { Bus, BusError } from "./Bus.js";
import { busSettings, type BusSettings } from "./BusConfig.js";
import { KafkaBus } from "./KafkaBus.js";
import { NatsBus } from "./NatsBus.js";

export const busLayer = (settings: BusSettings): Layer.Layer<Bus, BusError> =>
  settings._tag === "kafka" ? KafkaBus.layer(settings) : NatsBus.layer(settings);

export const BusLive: Layer.Layer<Bus, BusError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(busSettings, busLayer),
);
