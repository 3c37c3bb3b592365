// The Bus over NATS JetStream (`nats` 2.29, the maintained v2 client; its @nats-io/* successor
// splits the same API into modules and would be a drop-in change here). One connection per
// layer; provisioning and publishing live in nats/streams.ts, group consumption in
// nats/consume.ts, replay in nats/replay.ts.
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { Bus, BusError, type BusShape } from "./Bus.js";
import { describeSettings, type NatsSettings } from "./BusConfig.js";
import { natsConnect } from "./nats/connect.js";
import { natsConsume } from "./nats/consume.js";
import { natsReplay } from "./nats/replay.js";
import { errorText, provisionStream, publishAll, shardCounts } from "./nats/streams.js";

const make = (settings: NatsSettings) =>
  Effect.gen(function* () {
    const nc = yield* natsConnect(settings);
    const jsm = yield* Effect.tryPromise({
      try: () => nc.jetstreamManager(),
      catch: (cause) =>
        new BusError({
          op: "connect",
          message: `JetStream unavailable (is nats-server running with -js?): ${errorText(cause)}`,
          cause,
        }),
    });
    const js = nc.jetstream();
    const partitionsOf = shardCounts(jsm);
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    yield* Effect.logInfo(`bus connected: ${describeSettings(settings)}`);
    const bus: BusShape = {
      kind: "nats",
      provision: Effect.fn("NatsBus.provision")(function* (spec) {
        yield* provisionStream(jsm, spec, settings.replicas);
      }),
      partitions: partitionsOf,
      publish: Effect.fn("NatsBus.publish")(function* (topic, messages) {
        yield* publishAll(js, partitionsOf, topic, messages);
      }),
      consume: (topic, options) => natsConsume(jsm, js, maxPayload, topic, options),
      replay: (topic, from) => natsReplay(jsm, js, maxPayload, topic, from),
    };
    return bus;
  });

export const NatsBus = {
  make,
  /** A Bus on NATS JetStream with explicit settings (tests, tools); services use BusLive. */
  layer: (settings: NatsSettings): Layer.Layer<Bus, BusError> => Layer.scoped(Bus, make(settings)),
};
