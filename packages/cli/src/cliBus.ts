// The bus for commands that read or write topics: the services' own BusLive (NETPULSE_BUS and
// the broker variables), with `--bus nats|kafka` taking precedence over NETPULSE_BUS.
import * as ConfigProvider from "effect/ConfigProvider";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";

export const BUS_KINDS = ["nats", "kafka"] as const;

export const busLayer = (bus: string | undefined) =>
  bus === undefined
    ? BusLive
    : BusLive.pipe(
        Layer.provide(
          Layer.setConfigProvider(
            ConfigProvider.fromMap(new Map([["NETPULSE_BUS", bus]])).pipe(
              ConfigProvider.orElse(() => ConfigProvider.fromEnv()),
            ),
          ),
        ),
      );
