// placeholder while the Kafka side is written
import { Layer } from "effect";
import { Bus, BusError } from "./Bus.js";
import type { KafkaSettings } from "./BusConfig.js";
export const KafkaBus = {
  layer: (_settings: KafkaSettings): Layer.Layer<Bus, BusError> =>
    Layer.fail(new BusError({ op: "connect", message: "kafka bus not written yet" })),
};
