// An in-process Bus for unit tests of the stages: same semantics as the brokers where tests can
// see them — keys hash onto partitions and stay ordered, members of a group share the work, a
// message handed out and not acked comes back when its member's stream closes, replay by time or
// offset ends at the end of the topic as it was when the replay began. Nothing leaves the process;
// timestamps come from the Effect Clock, so TestClock controls them.
// MemoryBusControl, provided beside it, lets a test inject the broker's failures (publishes, acks,
// consumer starts that fail) and see every ack: the one in-memory bus, for every stage's tests.
import * as Clock from "effect/Clock";
import * as Context from "effect/Context";
import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import * as Stream from "effect/Stream";
import { Bus, BusError, type BusMessage, type BusShape, type Delivery, type ReplayFrom } from "./Bus.js";
import { checkTopic, partitionOutOfRange, shardOf } from "./shard.js";

/** Test-side handle on a MemoryBus: failures to inject and what was acked. */
export interface MemoryBusControlShape {
  /** The next `n` publishes (to `topic`, or to any topic if omitted) fail with a BusError; none of their messages is stored. */
  readonly failPublishes: (n: number, topic?: string) => Effect.Effect<void>;
  /** The next `n` acks fail with a BusError; their messages stay un-acked, so they come back once their stream closes. */
  readonly failAcks: (n: number) => Effect.Effect<void>;
  /** The next `n` consume streams fail with a BusError when they start, before handing anything out. */
  readonly failConsumes: (n: number) => Effect.Effect<void>;
  /** Every ack that succeeded so far, as `topic/partition@offset`, in ack order. */
  readonly acked: Effect.Effect<ReadonlyArray<string>>;
  /**
   * What happened, in order (to check ack-after-output): `publish <topic> <key>` per stored
   * message, `publish <topic> failed` per injected failure, `ack <topic>/<partition>@<offset>`.
   */
  readonly log: Effect.Effect<ReadonlyArray<string>>;
}

export class MemoryBusControl extends Context.Tag("netpulse/MemoryBusControl")<
  MemoryBusControl,
  MemoryBusControlShape
>() {}

/** Failures still to inject; "" counts publishes to any topic. */
interface Faults {
  readonly publishes: Map<string, number>;
  acks: number;
  consumes: number;
}

const injected = (op: string, topic: string) =>
  new BusError({ op, topic, message: `injected ${op} failure (MemoryBusControl)` });

/** Takes one failure from `counts[key]` if any is left. */
const takeFault = (counts: Map<string, number>, key: string): boolean => {
  const left = counts.get(key) ?? 0;
  if (left <= 0) return false;
  counts.set(key, left - 1);
  return true;
};

interface Stored extends BusMessage {
  readonly seq: number;
}

interface Group {
  /** Next index to hand out, per partition. */
  readonly cursor: number[];
  /** Handed out to a member whose stream closed without acking: handed out again first. */
  readonly redeliver: Stored[];
}

interface TopicState {
  readonly partitions: Stored[][];
  readonly groups: Map<string, Group>;
  /** Completed (and replaced) whenever something becomes available to take. */
  wake: Deferred.Deferred<void>;
  seq: number;
}

const makeWithControl = Effect.gen(function* () {
  const topics = new Map<string, TopicState>();
  const faults: Faults = { publishes: new Map(), acks: 0, consumes: 0 };
  const acked: string[] = [];
  const events: string[] = [];

  const topicState = (op: string, topic: string) =>
    Effect.suspend(() => {
      const t = topics.get(topic);
      return t !== undefined
        ? Effect.succeed(t)
        : Effect.fail(new BusError({ op, topic, message: `topic ${topic} is not provisioned` }));
    });

  const wakeAll = (t: TopicState) =>
    Effect.gen(function* () {
      const previous = t.wake;
      t.wake = yield* Deferred.make<void>();
      yield* Deferred.succeed(previous, undefined);
    });

  /** Next message for a group: redeliveries first, then the partitions round-robin. */
  const takeNext = (t: TopicState, g: Group): Stored | undefined => {
    const again = g.redeliver.shift();
    if (again !== undefined) return again;
    const start = t.seq % t.partitions.length;
    for (let i = 0; i < t.partitions.length; i++) {
      const p = (start + i) % t.partitions.length;
      const log = t.partitions[p]!;
      const at = g.cursor[p]!;
      if (at < log.length) {
        g.cursor[p] = at + 1;
        return log[at];
      }
    }
    return undefined;
  };

  const consume = (topic: string, group: string): Stream.Stream<Delivery, BusError> =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const t = yield* topicState("consume", topic);
        if (faults.consumes > 0) {
          faults.consumes--;
          return yield* injected("consume", topic);
        }
        let g = t.groups.get(group);
        if (g === undefined) {
          g = { cursor: t.partitions.map(() => 0), redeliver: [] };
          t.groups.set(group, g);
        }
        const grp = g;
        const outstanding = new Map<number, Stored>();
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            if (outstanding.size === 0) return Effect.void;
            grp.redeliver.push(...outstanding.values());
            grp.redeliver.sort((a, b) => a.seq - b.seq);
            outstanding.clear();
            return wakeAll(t);
          }),
        );
        const next: Effect.Effect<Delivery> = Effect.suspend(() => {
          const m = takeNext(t, grp);
          if (m === undefined) return Deferred.await(t.wake).pipe(Effect.zipRight(next));
          outstanding.set(m.seq, m);
          const { seq: _seq, ...message } = m;
          const ack = Effect.suspend(() => {
            if (faults.acks > 0) {
              faults.acks--;
              return injected("ack", topic);
            }
            if (outstanding.delete(m.seq)) {
              acked.push(`${topic}/${m.partition}@${m.offset}`);
              events.push(`ack ${topic}/${m.partition}@${m.offset}`);
            }
            return Effect.void;
          });
          return Effect.succeed({ ...message, ack });
        });
        return Stream.repeatEffect(next);
      }),
    );

  const replay = (topic: string, from: ReplayFrom): Stream.Stream<BusMessage, BusError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const t = yield* topicState("replay", topic);
        const toMs = from.toMs ?? Number.POSITIVE_INFINITY;
        const picked =
          from._tag === "Time"
            ? t.partitions.flat().filter((m) => m.timestampMs >= from.fromMs && m.timestampMs <= toMs)
            : (t.partitions[from.partition] ?? []).filter(
                (m) => BigInt(m.offset) >= BigInt(from.offset) && m.timestampMs <= toMs,
              );
        const ordered = picked.sort((a, b) => a.seq - b.seq).map(({ seq: _seq, ...m }) => m);
        return Stream.fromIterable(ordered);
      }),
    );

  const bus: BusShape = {
    kind: "memory",
    provision: Effect.fn("MemoryBus.provision")(function* (spec) {
      yield* checkTopic("provision", spec.topic);
      if (topics.has(spec.topic)) return;
      topics.set(spec.topic, {
        partitions: Array.from({ length: Math.max(1, spec.partitions) }, () => []),
        groups: new Map(),
        wake: yield* Deferred.make<void>(),
        seq: 0,
      });
    }),
    partitions: (topic) => Effect.map(topicState("partitions", topic), (t) => t.partitions.length),
    publish: Effect.fn("MemoryBus.publish")(function* (topic, messages) {
      const t = yield* topicState("publish", topic);
      const outOfRange = partitionOutOfRange(topic, messages, t.partitions.length);
      if (outOfRange !== undefined) return yield* outOfRange;
      if (takeFault(faults.publishes, "") || takeFault(faults.publishes, topic)) {
        events.push(`publish ${topic} failed`);
        return yield* injected("publish", topic);
      }
      const now = yield* Clock.currentTimeMillis;
      for (const m of messages) {
        const partition = m.partition ?? shardOf(m.key, t.partitions.length);
        const log = t.partitions[partition]!;
        const value = Buffer.from(m.value);
        log.push({ topic, key: m.key, value, partition, offset: String(log.length), timestampMs: now, seq: t.seq++ });
        events.push(`publish ${topic} ${m.key}`);
      }
      yield* wakeAll(t);
    }),
    consume: (topic, options) => consume(topic, options.group),
    replay,
  };
  const control: MemoryBusControlShape = {
    failPublishes: (n, topic = "") =>
      Effect.sync(() => void faults.publishes.set(topic, (faults.publishes.get(topic) ?? 0) + n)),
    failAcks: (n) => Effect.sync(() => void (faults.acks += n)),
    failConsumes: (n) => Effect.sync(() => void (faults.consumes += n)),
    acked: Effect.sync(() => [...acked]),
    log: Effect.sync(() => [...events]),
  };
  return { bus, control };
});

export const MemoryBus = {
  make: Effect.map(makeWithControl, ({ bus }) => bus),
  /** A fresh in-memory Bus per layer build (each test gets its own), with its MemoryBusControl. */
  layer: Layer.effectContext(
    Effect.map(makeWithControl, ({ bus, control }) =>
      Context.make(Bus, bus).pipe(Context.add(MemoryBusControl, control)),
    ),
  ),
  /** Inspect helper for tests: everything published to a topic so far, in publish order. */
  published: (topic: string) =>
    Bus.pipe(Effect.flatMap((bus) => bus.replay(topic, { _tag: "Time", fromMs: 0 }).pipe(Stream.runCollect))),
};
