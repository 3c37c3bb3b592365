// Replay on JetStream: an ordered (ephemeral, ack-less) consumer starting at a time or a stream
// sequence, ending at `toMs` or at the last sequence the stream (or the shard, for an offset
// replay) held when the replay began, so a replay of a live topic still finishes.
import * as Effect from "effect/Effect";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type OrderedConsumerOptions } from "nats";
import { BusError, type BusMessage, type ReplayFrom } from "../Bus.js";
import { pullMessages, toBusMessage } from "./consume.js";
import { shardSubject, streamName } from "./names.js";
import { checkTopic } from "../shard.js";
import { errorText } from "./streams.js";

const REPLAY_PULL_MESSAGES = 64;

interface Plan {
  readonly options: Partial<OrderedConsumerOptions>;
  /** Last sequence to deliver; 0 = nothing to replay. */
  readonly lastSeq: number;
}

const plan = (jsm: JetStreamManager, topic: string, from: ReplayFrom) =>
  Effect.gen(function* () {
    const stream = streamName(topic);
    const fail = (cause: unknown) =>
      new BusError({ op: "replay", topic, message: `stream ${stream}: ${errorText(cause)}`, cause });
    if (from._tag === "Time") {
      const info = yield* Effect.tryPromise({ try: () => jsm.streams.info(stream), catch: fail });
      const lastTs = Date.parse(info.state.last_ts);
      const empty = info.state.messages === 0 || !(lastTs >= from.fromMs);
      return {
        options: { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(from.fromMs).toISOString() },
        lastSeq: empty ? 0 : info.state.last_seq,
      } satisfies Plan;
    }
    const start = Number(from.offset);
    if (!Number.isSafeInteger(start) || start < 1)
      return yield* new BusError({ op: "replay", topic, message: `offset "${from.offset}" is not a stream sequence` });
    const subject = shardSubject(topic, from.partition);
    const last = yield* Effect.tryPromise({
      try: () => jsm.streams.getMessage(stream, { last_by_subj: subject }),
      catch: (e) => e,
    }).pipe(
      Effect.map((m) => m.seq),
      Effect.catchAll((e) =>
        /no message found|not found/i.test(errorText(e)) ? Effect.succeed(0) : Effect.fail(fail(e)),
      ),
    );
    return {
      options: { filterSubjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start },
      lastSeq: last >= start ? last : 0,
    } satisfies Plan;
  });

export const natsReplay = (
  jsm: JetStreamManager,
  js: JetStreamClient,
  maxPayload: number,
  topic: string,
  from: ReplayFrom,
): Stream.Stream<BusMessage, BusError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      yield* checkTopic("replay", topic);
      const { options, lastSeq } = yield* plan(jsm, topic, from);
      if (lastSeq === 0) return Stream.empty;
      const consumer = yield* Effect.tryPromise({
        try: () => js.consumers.get(streamName(topic), options),
        catch: (cause) => new BusError({ op: "replay", topic, message: errorText(cause), cause }),
      });
      const messages = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () => consumer.consume({ max_messages: pullMessages(REPLAY_PULL_MESSAGES, maxPayload) }),
          catch: (cause) => new BusError({ op: "replay", topic, message: errorText(cause), cause }),
        }),
        (iter) => Effect.sync(() => iter.stop()),
      );
      const it = messages[Symbol.asyncIterator]();
      const toMs = from.toMs ?? Number.POSITIVE_INFINITY;
      let finished = false;
      const next = Effect.suspend(() =>
        finished
          ? Effect.fail(Option.none())
          : Effect.tryPromise({
              try: () => it.next(),
              catch: (cause) => Option.some(new BusError({ op: "replay", topic, message: errorText(cause), cause })),
            }),
      ).pipe(
        Effect.flatMap((r) => {
          if (r.done === true) return Effect.fail(Option.none());
          const m = toBusMessage(topic, r.value);
          if (r.value.seq > lastSeq || m.timestampMs > toMs) return Effect.fail(Option.none());
          if (r.value.seq === lastSeq) finished = true;
          return Effect.succeed(m);
        }),
      );
      return Stream.repeatEffectOption(next);
    }),
  );
