// The baseline of a backtest over the enriched topic: the anomalies the live detector recorded on
// `netpulse.anomalies` over the same window of broker time (`Bus.replay`), folded into episodes.
// That is what the rules in force then actually did, versions and all. An undecodable message is
// counted, not fatal: the topic may hold other producers' records.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { decodeRecords } from "@netpulse/runtime/codec/BatchCodec";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { openBus } from "../cliBus.js";
import { EpisodeLog } from "./EpisodeLog.js";

/** The recorded episodes between `fromMs` and `toMs` (broker time), and how many messages did not decode. */
export const recordedEpisodes = (bus: string | undefined, fromMs: number, toMs: number) =>
  Effect.gen(function* () {
    const b = yield* openBus(bus);
    yield* b.provision(TopicSpecs.anomalies);
    const log = new EpisodeLog();
    let undecodable = 0;
    yield* b.replay(Topics.anomalies, { _tag: "Time", fromMs, toMs }).pipe(
      Stream.runForEach((m) =>
        Effect.sync(() => {
          const records = Either.getOrUndefined(decodeRecords(AnomalyCodec, m.value));
          if (records === undefined) undecodable++;
          else log.add(records);
        }),
      ),
    );
    return { log, undecodable };
  });
