// The one shape of every stage: source → transform → output.
//
// A transform is a function over a stream of bus batches. It is generic in the message type, so
// the live service can hand it `Delivery`s (which carry an ack) and the CLI plain `BusMessage`s
// (from `Bus.replay` or a JSON-lines file turned into the same Avro batches): the transform only
// ever sees `BusMessage` fields and passes each message through, untouched, in `from`. Acks travel
// beside the transform, never inside it; the runner acks `from` once `out` is done.
import * as Effect from "effect/Effect";
import type * as Stream from "effect/Stream";
import * as StreamM from "effect/Stream";
import type { BusMessage, OutgoingMessage } from "../bus/Bus.js";

/** One unit of output and the input messages it used up (acked together after the output). */
export interface Emitted<A, O> {
  readonly from: ReadonlyArray<A>;
  readonly out: O;
}

export type Transform<O, E = never, R = never> = <A extends BusMessage, EIn>(
  input: Stream.Stream<A, EIn>,
) => Stream.Stream<Emitted<A, O>, E | EIn, R>;

/** Messages for one topic. */
export interface Publication {
  readonly topic: string;
  readonly messages: ReadonlyArray<OutgoingMessage>;
}

/** An input message the transform could not use, and why (it goes to the DLQ live, to stderr offline). */
export interface Rejected {
  readonly message: BusMessage;
  readonly kind: string;
  readonly reason: string;
}

/** What a bus-to-bus stage makes of its input. */
export interface StageOutput {
  readonly publish: ReadonlyArray<Publication>;
  readonly rejected: ReadonlyArray<Rejected>;
  /** Records in and out, for metrics and progress. */
  readonly recordsIn: number;
  readonly recordsOut: number;
}

export const emptyOutput: StageOutput = { publish: [], rejected: [], recordsIn: 0, recordsOut: 0 };

/** A transform that handles each message on its own (most bus-to-bus stages). */
export const perMessage =
  <O, E, R>(f: (message: BusMessage) => Effect.Effect<O, E, R>): Transform<O, E, R> =>
  (input) =>
    input.pipe(StreamM.mapEffect((m) => Effect.map(f(m), (out) => ({ from: [m], out }))));

/**
 * Offline chaining: what a stage would publish to `topic`, as the next stage's input (the CLI
 * runs the enricher's transform, then the detector's, on one file without a broker between).
 */
export const publishedTo =
  (topic: string) =>
  <A extends BusMessage, E, R>(
    emitted: Stream.Stream<Emitted<A, StageOutput>, E, R>,
  ): Stream.Stream<BusMessage, E, R> =>
    StreamM.mapConcat(emitted, ({ from, out }) => {
      const at = from[0];
      const messages: BusMessage[] = [];
      for (const p of out.publish) {
        if (p.topic !== topic) continue;
        for (const m of p.messages)
          messages.push({
            topic,
            key: m.key,
            value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value),
            partition: m.partition ?? 0,
            offset: at?.offset ?? "",
            timestampMs: at?.timestampMs ?? 0,
          });
      }
      return messages;
    });
