// Group consumption on JetStream: one durable pull consumer per (topic, group), shared by every
// member of the group (JetStream hands each message to one of them). Pulls are bounded by a
// message count small enough that count x max_payload fits the client's pending limit, the stream
// reads the client's buffer a chunk at a time, and messages handed out but not acked are nak'ed
// shortly after the stream closes so a restarted member gets them before ack_wait runs out.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Option from "effect/Option";
import * as Runtime from "effect/Runtime";
import * as Stream from "effect/Stream";
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "nats";
import { BusError, type BusMessage, type ConsumeOptions, type Delivery } from "../Bus.js";
import { durableName, KEY_HEADER, shardFromSubject, shardSubject, streamName } from "./names.js";
import { checkTopic } from "../shard.js";
import { errorText, retryTransient, transient } from "./streams.js";

export const DEFAULT_MAX_IN_FLIGHT = 32;
export const DEFAULT_ACK_WAIT_MS = 30_000;
/**
 * Bound on buffered bytes: the client's pending limit is 64 MiB (MEASURED: exceeding it means
 * slow-consumer disconnects) and one message may be as large as the server's max_payload.
 * nats.js takes either a message or a byte bound per pull, so the message bound is clamped.
 */
const PENDING_BUDGET_BYTES = 48 * 1024 * 1024;
export const pullMessages = (wanted: number, maxPayload: number): number =>
  Math.max(1, Math.min(wanted, Math.floor(PENDING_BUDGET_BYTES / Math.max(1, maxPayload))));

/** Pull requests outlive their client on the server until they expire: keep them shorter than ack_wait. */
const pullExpiresMs = (ackWaitMs: number): number => Math.max(1_000, Math.min(10_000, Math.floor(ackWaitMs / 2)));

export const toBusMessage = (topic: string, m: JsMsg): BusMessage => ({
  topic,
  key: m.headers?.get(KEY_HEADER) ?? "",
  value: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
  partition: shardFromSubject(topic, m.subject),
  offset: String(m.seq),
  timestampMs: Math.floor(m.info.timestampNanos / 1e6),
});

const ensureDurable = (
  jsm: JetStreamManager,
  topic: string,
  group: string,
  ackWaitMs: number,
  filterSubject: string | undefined,
) =>
  Effect.gen(function* () {
    const stream = streamName(topic);
    const durable = durableName(group);
    const fail = (message: string) => (cause: unknown) =>
      new BusError({ op: "consume", topic, message: `${message}: ${errorText(cause)}`, cause });
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      // A new group starts at the oldest retained message, like Kafka's fromBeginning.
      deliver_policy: DeliverPolicy.All,
      ...(filterSubject === undefined ? {} : { filter_subject: filterSubject }),
    };
    const existing = yield* Effect.tryPromise({ try: () => jsm.consumers.info(stream, durable), catch: (e) => e }).pipe(
      Effect.map(Option.some),
      Effect.catchAll((e) =>
        /consumer not found/i.test(errorText(e))
          ? Effect.succeed(Option.none())
          : Effect.fail(fail("consumer info failed")(e)),
      ),
    );
    if (Option.isNone(existing)) {
      yield* Effect.tryPromise({ try: () => jsm.consumers.add(stream, config), catch: fail("consumer create failed") });
    } else if (existing.value.config.ack_wait !== config.ack_wait) {
      yield* Effect.tryPromise({
        try: () => jsm.consumers.update(stream, durable, { ack_wait: nanos(ackWaitMs) }),
        catch: fail("consumer update failed"),
      });
    }
    return { stream, durable };
  });

const NOT_YET = Symbol("not yet");
const macrotask = () => new Promise<typeof NOT_YET>((resolve) => setImmediate(() => resolve(NOT_YET)));

/**
 * Reads what the client already buffered in one go: one Effect resumption per chunk instead of
 * per message. A `next()` that is not ready before a macrotask is kept for the following call, so
 * nothing is dropped. undefined = the iterator ended.
 */
export const chunkReader = <A>(it: AsyncIterator<A>, max: number) => {
  let carry: Promise<IteratorResult<A>> | undefined;
  return async (): Promise<A[] | undefined> => {
    const first = await (carry ?? it.next());
    carry = undefined;
    if (first.done === true) return undefined;
    const out = [first.value];
    while (out.length < max) {
      const pending = it.next();
      const r = await Promise.race([pending, macrotask()]);
      if (r === NOT_YET) {
        carry = pending;
        break;
      }
      if (r.done === true) {
        carry = pending;
        break;
      }
      out.push(r.value);
    }
    return out;
  };
};

/**
 * A group's stream. With `options.partitions`, a durable per (group, shard) filtered to that
 * shard's subject, merged: JetStream hands a shared durable's messages to any member, so this is
 * how a member keeps whole shards (the detector: one replica per workload pair, in order).
 */
export const natsConsume = (
  jsm: JetStreamManager,
  js: JetStreamClient,
  maxPayload: number,
  topic: string,
  options: ConsumeOptions,
): Stream.Stream<Delivery, BusError> => {
  const shards = options.partitions;
  if (shards === undefined) return consumeDurable(jsm, js, maxPayload, topic, options, options.group, undefined);
  const perShard = Math.max(1, Math.ceil((options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT) / Math.max(1, shards.length)));
  return Stream.mergeAll(
    shards.map((p) =>
      consumeDurable(
        jsm,
        js,
        maxPayload,
        topic,
        { ...options, maxInFlight: perShard },
        `${options.group}-p${p}`,
        shardSubject(topic, p),
      ),
    ),
    { concurrency: "unbounded" },
  );
};

const consumeDurable = (
  jsm: JetStreamManager,
  js: JetStreamClient,
  maxPayload: number,
  topic: string,
  options: ConsumeOptions,
  group: string,
  filterSubject: string | undefined,
): Stream.Stream<Delivery, BusError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      yield* checkTopic("consume", topic);
      const maxInFlight = pullMessages(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, maxPayload);
      const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
      // Setup may meet a broker that is restarting: retry what is transient, like publish does.
      const { stream, durable } = yield* ensureDurable(jsm, topic, group, ackWaitMs, filterSubject).pipe(
        Effect.retry({ schedule: retryTransient, while: (e) => transient(e.cause) }),
      );
      const consumer = yield* Effect.tryPromise({
        try: () => js.consumers.get(stream, durable),
        catch: (cause) =>
          new BusError({ op: "consume", topic, message: `consumer ${durable}: ${errorText(cause)}`, cause }),
      }).pipe(Effect.retry({ schedule: retryTransient, while: (e) => transient(e.cause) }));
      const outstanding = new Set<JsMsg>();
      const runtime = yield* Effect.runtime<never>();
      const expires = pullExpiresMs(ackWaitMs);
      // consume() mutates its options object: build a fresh one here, never share it.
      const messages = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () => consumer.consume({ max_messages: maxInFlight, expires }),
          catch: (cause) => new BusError({ op: "consume", topic, message: `pull failed: ${errorText(cause)}`, cause }),
        }),
        (iter) =>
          Effect.sync(() => {
            // stop(), not close(): awaiting close() after leaving the loop does not resolve in 2.29.
            iter.stop();
            // nats-server 2.9 still routes messages to a stopped client's open pull request until it
            // expires (seen: redeliveries swallowed, one stream sequence delivered twice), so unacked
            // messages are nak'ed only once those requests are gone; ack_wait covers a crash.
            const unacked = [...outstanding];
            outstanding.clear();
            if (unacked.length === 0) return;
            const nakAll = Effect.try(() => unacked.forEach((m) => m.nak())).pipe(
              Effect.catchAll((e) => Effect.logDebug("nak after close failed; ack_wait redelivers", e)),
            );
            // An unref'ed timer, not a sleeping fiber: it must not keep a finished process alive.
            setTimeout(() => Runtime.runFork(runtime)(nakAll), expires + 200).unref();
          }),
      );
      const nextChunk = chunkReader(messages[Symbol.asyncIterator](), maxInFlight);
      const next = Effect.tryPromise({
        try: nextChunk,
        catch: (cause) => Option.some(new BusError({ op: "consume", topic, message: errorText(cause), cause })),
      }).pipe(
        Effect.flatMap((chunk) =>
          chunk === undefined
            ? Effect.fail(Option.some(new BusError({ op: "consume", topic, message: `consumer ${durable} stopped` })))
            : Effect.succeed(Chunk.unsafeFromArray(chunk)),
        ),
      );
      return Stream.repeatEffectChunkOption(next).pipe(
        Stream.map((m): Delivery => {
          outstanding.add(m);
          return {
            ...toBusMessage(topic, m),
            // Fire-and-forget ack, sent in order on the connection (drain flushes it on shutdown).
            // Waiting for the server's confirmation (ackAck) halved consume throughput here; an ack
            // that never arrives only means a redelivery, which at-least-once allows anyway.
            // A second ack, or an ack after the stream closed (the message was nak'ed), is a no-op.
            ack: Effect.suspend(() => {
              if (!outstanding.delete(m)) return Effect.void;
              return Effect.try({
                try: () => m.ack(),
                catch: (cause) =>
                  new BusError({ op: "ack", topic, message: `ack of ${m.seq} failed: ${errorText(cause)}`, cause }),
              });
            }),
          };
        }),
      );
    }),
  );
