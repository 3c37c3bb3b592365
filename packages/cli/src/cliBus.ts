// The bus for commands that read or write topics: the services' own BusLive (NETPULSE_BUS and
// the broker variables), with `--bus nats|kafka` taking precedence over NETPULSE_BUS.
import * as ConfigProvider from "effect/ConfigProvider";
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { UsageError } from "./UsageError.js";

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

/** The bus itself, open for the caller's scope; a bus that cannot be reached is a one-line usage error. */
export const openBus = (bus: string | undefined) =>
  Layer.build(busLayer(bus)).pipe(
    Effect.map((ctx) => Context.get(ctx, Bus)),
    Effect.mapError((e) => new UsageError({ message: `bus: ${e instanceof Error ? e.message : JSON.stringify(e)}` })),
  );
