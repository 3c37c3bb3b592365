// Runs a stage: source → transform → output → ack. What every stage used to repeat lives here:
// the publish retry schedule (a failed publish is retried, never skipped, while the input stays
// unacked), dead-lettering with the reason, and ack-after-output. The service's source is
// `Bus.consume` (acks: the deliveries' own); the CLI's is `Bus.replay` or a JSON-lines file (no
// acks). The transform and the output are the same code either way.
import * as Effect from "effect/Effect";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import {
  Bus,
  type BusError,
  type BusMessage,
  type ConsumeOptions,
  type Delivery,
  type OutgoingMessage,
} from "../bus/Bus.js";
import { deadLetter } from "../bus/deadLetter.js";
import { nowNs } from "../clock.js";
import { Topics } from "../topics.js";
import type { StageOutput, Transform } from "./Stage.js";

/** Retried until the broker takes it: quickly at first, then every 10 s. */
export const publishRetry = Schedule.exponential("200 millis").pipe(Schedule.either(Schedule.spaced("10 seconds")));

/** Publish and wait for the broker, retrying (and saying so) until it succeeds or the fiber is interrupted. */
export const publishWithRetry = (topic: string, messages: ReadonlyArray<OutgoingMessage>) =>
  messages.length === 0
    ? Effect.void
    : Effect.flatMap(Bus, (bus) =>
        bus.publish(topic, messages).pipe(
          Effect.tapError((e) => Effect.logWarning(`publish to ${topic} failed, retrying: ${e.message}`)),
          Effect.retry(publishRetry),
        ),
      );

/** Dead letters for input messages a stage could not use: original bytes, where from, and why. */
export const deadLetters = (stage: string, rejected: StageOutput["rejected"]) =>
  Effect.map(nowNs, (at) => rejected.map((r) => deadLetter(r.message, stage, r.kind, r.reason, at)));

/**
 * The live output of a bus-to-bus stage: every publication, then the dead letters, each retried
 * until the broker takes it. Logs each rejected message with where it came from.
 */
export const busOutput =
  (stage: string) =>
  (o: StageOutput): Effect.Effect<void, BusError, Bus> =>
    Effect.gen(function* () {
      for (const p of o.publish) yield* publishWithRetry(p.topic, p.messages);
      if (o.rejected.length === 0) return;
      for (const r of o.rejected)
        yield* Effect.logWarning(`message sent to the DLQ: ${r.reason}`).pipe(
          Effect.annotateLogs({ topic: r.message.topic, partition: r.message.partition, offset: r.message.offset }),
        );
      yield* publishWithRetry(Topics.dlq, yield* deadLetters(stage, o.rejected));
    });

/** An ack that fails means a redelivery, which every stage tolerates: log it, don't stop. */
export const ackQuietly = (d: Delivery) =>
  d.ack.pipe(
    Effect.catchAll((e: BusError) => Effect.logWarning(`ack failed (the message will be redelivered): ${e.message}`)),
  );

export interface StageRun<A extends BusMessage, O, E, R, EO, RO> {
  readonly source: Stream.Stream<A, E>;
  readonly transform: Transform<O, E, R>;
  readonly output: (out: O) => Effect.Effect<void, EO, RO>;
  /** Called for each input message once the output that used it is done. */
  readonly ack: (message: A) => Effect.Effect<void>;
}

/** Source → transform → output → ack, until the source ends, fails, or the fiber is interrupted. */
export const runStage = <A extends BusMessage, O, E, R, EO, RO>(run: StageRun<A, O, E, R, EO, RO>) =>
  run.source.pipe(
    run.transform,
    Stream.mapEffect(({ from, out }) =>
      Effect.zipRight(run.output(out), Effect.forEach(from, run.ack, { discard: true })),
    ),
    Stream.runDrain,
  );

/** The service's source: a consumer group on `topic`, acking after the output. */
export const runLive = <O, E, R, EO, RO>(
  topic: string,
  options: ConsumeOptions,
  transform: Transform<O, E, R>,
  output: (out: O) => Effect.Effect<void, EO, RO>,
) =>
  Effect.flatMap(Bus, (bus) => runStage({ source: bus.consume(topic, options), transform, output, ack: ackQuietly }));

/** An offline source (replay, file): the same transform and output, nothing to ack. */
export const runOffline = <O, E, R, EO, RO>(
  source: Stream.Stream<BusMessage, E>,
  transform: Transform<O, E, R>,
  output: (out: O) => Effect.Effect<void, EO, RO>,
) => runStage({ source, transform, output, ack: () => Effect.void });
