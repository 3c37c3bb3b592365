// The bus contract, run unchanged against a real nats-server and a real Kafka broker (addresses
// from NETPULSE_NATS_URL / NETPULSE_KAFKA_BROKERS; `npm test` starts both), and, through
// busContract, against the 3-node clusters of test/clusters/ (where the restart case kills one
// node -9 and starts it again). Topics and groups get a random suffix per run. Each case asserts the property it names, so breaking that property in an
// implementation turns it red (see the bus report for what was broken on purpose to check this).
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Fiber from "effect/Fiber";
import * as ManagedRuntime from "effect/ManagedRuntime";
import * as Ref from "effect/Ref";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus, type BusError, type Delivery } from "@netpulse/runtime/bus/Bus";
import {
  encode,
  singleServer,
  takeWithin,
  text,
  uniqueGroup,
  uniqueTopic,
  type BusTarget,
} from "./support/busHarness.js";

const PARTITIONS = 4;
const spec = (topic: string) => ({ topic, partitions: PARTITIONS, retentionMs: 3_600_000 });
// Short ack wait so a NATS redelivery that relies on it stays quick; Kafka ignores it.
const consumeGroup = (topic: string, group: string) =>
  Stream.unwrap(Effect.map(Bus, (bus) => bus.consume(topic, { group, ackWaitMs: 4_000 })));
const msgs = (prefix: string, n: number, key: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => ({ key: key(i), value: encode(`${prefix}-${i}`) }));

function contract(target: BusTarget) {
  const kind = target.kind;
  let runtime: ManagedRuntime.ManagedRuntime<Bus, BusError>;
  const run = <A, E>(effect: Effect.Effect<A, E, Bus>) => runtime.runPromise(effect);

  beforeAll(async () => {
    runtime = ManagedRuntime.make(target.layer());
    await runtime.runPromise(Effect.void);
  });
  afterAll(async () => {
    await runtime?.dispose();
  });

  it("delivers batches with one key in publish order", async () => {
    const topic = uniqueTopic(`order-${kind}`);
    const keys = ["10.0.0.1|10.0.0.2", "10.0.0.3|10.0.0.4", "10.0.0.5|10.0.0.6"];
    const got = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        // Three publish calls, keys interleaved inside each; value = key index : running number.
        for (let call = 0; call < 3; call++)
          yield* bus.publish(
            topic,
            Array.from({ length: 60 }, (_, i) => ({
              key: keys[i % 3]!,
              value: encode(`${i % 3}:${call * 20 + Math.floor(i / 3)}`),
            })),
          );
        const stream = bus.consume(topic, { group: uniqueGroup("order") }).pipe(Stream.tap((d) => d.ack));
        return yield* takeWithin(stream, 180, "40 seconds");
      }),
    );
    for (let k = 0; k < 3; k++) {
      const mine = got.filter((m) => m.key === keys[k]);
      expect(mine.map((m) => Number(text(m).split(":")[1]))).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
    }
  });

  it("reports its partitions and sends a message to the partition the producer chose", async () => {
    const topic = uniqueTopic(`partition-${kind}`);
    const got = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        const n = yield* bus.partitions(topic);
        // one key, every partition: only the explicit partition can spread these
        yield* bus.publish(
          topic,
          Array.from({ length: n * 3 }, (_, i) => ({ key: "one-key", partition: i % n, value: encode(String(i % n)) })),
        );
        const outOfRange = yield* Effect.either(bus.publish(topic, [{ key: "k", partition: n, value: encode("x") }]));
        const stream = bus.consume(topic, { group: uniqueGroup("partition") }).pipe(Stream.tap((d) => d.ack));
        return { n, outOfRange, messages: yield* takeWithin(stream, n * 3, "40 seconds") };
      }),
    );
    expect(got.n).toBe(PARTITIONS);
    expect(got.messages).toHaveLength(PARTITIONS * 3);
    expect(got.messages.every((m) => m.partition === Number(text(m)))).toBe(true);
    expect(got.outOfRange._tag).toBe("Left");
  });

  it("redelivers a delivered but unacked batch after the consumer restarts", async () => {
    const topic = uniqueTopic(`redeliver-${kind}`);
    const group = uniqueGroup("redeliver");
    const consume = () => consumeGroup(topic, group);
    const { first, second, after } = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        yield* bus.publish(
          topic,
          msgs("m", 3, () => "one-key"),
        );
        // Ack m-0 and m-2 while the stream runs, never m-1; then the stream ends.
        const first = yield* takeWithin(
          consume().pipe(Stream.tap((d) => (text(d) === "m-1" ? Effect.void : d.ack))),
          3,
          "40 seconds",
        );
        // The restarted member must get m-1 first (Kafka may also bring m-2 again: it commits
        // a watermark, not single messages), and never m-0.
        const second = yield* takeWithin(consume().pipe(Stream.tap((d) => d.ack)), 1, "30 seconds");
        yield* bus.publish(
          topic,
          msgs("marker", 1, () => "one-key"),
        );
        const after = yield* takeWithin(
          consume().pipe(
            Stream.tap((d) => d.ack),
            Stream.takeUntil((d) => text(d) === "marker-0"),
          ),
          5,
          "30 seconds",
        ).pipe(Effect.catchAll(() => Effect.succeed([] as ReadonlyArray<Delivery>)));
        return { first, second, after };
      }),
    );
    expect(first.map(text)).toEqual(["m-0", "m-1", "m-2"]);
    expect(second.map(text)).toEqual(["m-1"]);
    const rest = after.map(text);
    expect(rest.at(-1)).toBe("marker-0");
    expect(rest.filter((t) => !["m-2", "marker-0"].includes(t))).toEqual([]);
  });

  it("splits the work of one group between two members, each batch once", async () => {
    const topic = uniqueTopic(`group-${kind}`);
    const group = uniqueGroup("pair");
    const { a, b } = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        const seenA = yield* Ref.make<string[]>([]);
        const seenB = yield* Ref.make<string[]>([]);
        const member = (seen: Ref.Ref<string[]>) =>
          bus.consume(topic, { group, maxInFlight: 4 }).pipe(
            Stream.mapEffect((d) =>
              Ref.update(seen, (s) => [...s, text(d)]).pipe(
                Effect.zipRight(Effect.sleep("2 millis")),
                Effect.zipRight(d.ack),
              ),
            ),
            Stream.runDrain,
            Effect.fork,
          );
        const fa = yield* member(seenA);
        const fb = yield* member(seenB);
        // Steady state first: warm-up batches until both members receive (Kafka rebalances on join).
        const warmed = (s: string[]) => s.some((t) => t.startsWith("warm"));
        let w = 0;
        while (!(warmed(yield* Ref.get(seenA)) && warmed(yield* Ref.get(seenB)))) {
          if (w > 300) return yield* Effect.die(new Error("group never reached steady state"));
          yield* bus.publish(
            topic,
            msgs(`warm${w++}`, PARTITIONS * 2, (i) => `w${i}`),
          );
          yield* Effect.sleep("200 millis");
        }
        yield* Effect.sleep("1 second");
        yield* bus.publish(
          topic,
          msgs("t", 400, (i) => `key-${i}`),
        );
        const done = (s: string[]) => s.filter((t) => t.startsWith("t-")).length;
        for (let i = 0; i < 600 && done(yield* Ref.get(seenA)) + done(yield* Ref.get(seenB)) < 400; i++)
          yield* Effect.sleep("100 millis");
        yield* Effect.sleep("1 second"); // duplicates, if any, would arrive now
        yield* Fiber.interrupt(fa);
        yield* Fiber.interrupt(fb);
        const only = (s: string[]) => s.filter((t) => t.startsWith("t-"));
        return { a: only(yield* Ref.get(seenA)), b: only(yield* Ref.get(seenB)) };
      }),
    );
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const all = [...a, ...b].sort();
    expect(all).toEqual(Array.from({ length: 400 }, (_, i) => `t-${i}`).sort());
  });

  it("keeps one group name on two topics apart: each stream gets every message of its own topic", async () => {
    // The sink reads three topics under one group name. On Kafka a shared group id let kafkajs's
    // assigner give one topic's partitions to the other topic's consumer, which dropped them.
    const topics = [uniqueTopic(`shared-a-${kind}`), uniqueTopic(`shared-b-${kind}`)] as const;
    const group = uniqueGroup("shared");
    const [a, b] = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        for (const t of topics) {
          yield* bus.provision(spec(t));
          yield* bus.publish(
            t,
            msgs(t, 40, (i) => `key-${i}`),
          );
        }
        // Both members stay in until both have everything: a member that left early would hand
        // its partitions back and hide the fault.
        const seen = [yield* Ref.make<string[]>([]), yield* Ref.make<string[]>([])] as const;
        const fibers = yield* Effect.forEach([0, 1] as const, (i) =>
          consumeGroup(topics[i], group).pipe(
            Stream.mapEffect((d) => Ref.update(seen[i], (s) => [...s, text(d)]).pipe(Effect.zipRight(d.ack))),
            Stream.runDrain,
            Effect.fork,
          ),
        );
        const count = (i: 0 | 1) => Effect.map(Ref.get(seen[i]), (s) => new Set(s).size);
        for (let w = 0; w < 400 && ((yield* count(0)) < 40 || (yield* count(1)) < 40); w++)
          yield* Effect.sleep("100 millis");
        yield* Effect.forEach(fibers, Fiber.interrupt, { discard: true });
        return [[...new Set(yield* Ref.get(seen[0]))].sort(), [...new Set(yield* Ref.get(seen[1]))].sort()] as const;
      }),
    );
    expect(a).toEqual(Array.from({ length: 40 }, (_, i) => `${topics[0]}-${i}`).sort());
    expect(b).toEqual(Array.from({ length: 40 }, (_, i) => `${topics[1]}-${i}`).sort());
  });

  it("replays exactly the batches at or after a timestamp, up to an end time or an offset's partition", async () => {
    const topic = uniqueTopic(`replay-${kind}`);
    const r = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        yield* bus.publish(
          topic,
          msgs("a", 20, (i) => `k${i % 5}`),
        );
        yield* Effect.sleep("50 millis");
        const from = Date.now();
        yield* Effect.sleep("50 millis");
        yield* bus.publish(
          topic,
          msgs("b", 20, (i) => `k${i % 5}`),
        );
        yield* Effect.sleep("50 millis");
        const to = Date.now();
        yield* Effect.sleep("50 millis");
        yield* bus.publish(
          topic,
          msgs("c", 20, (i) => `k${i % 5}`),
        );
        const collect = (s: Stream.Stream<{ value: Buffer; partition: number; offset: string }, BusError>) =>
          s.pipe(
            Stream.runCollect,
            Effect.map((c) => [...c]),
            Effect.timeout("60 seconds"),
          );
        const open = yield* collect(bus.replay(topic, { _tag: "Time", fromMs: from }));
        const bounded = yield* collect(bus.replay(topic, { _tag: "Time", fromMs: from, toMs: to }));
        const firstB = open[0]!;
        const byOffset = yield* collect(
          bus.replay(topic, { _tag: "Offset", partition: firstB.partition, offset: firstB.offset }),
        );
        const all = yield* collect(bus.replay(topic, { _tag: "Time", fromMs: 0 }));
        return { open, bounded, byOffset, firstB, all };
      }),
    );
    const names = (xs: ReadonlyArray<{ value: Buffer }>) => xs.map((m) => m.value.toString()).sort();
    const set = (p: string) => Array.from({ length: 20 }, (_, i) => `${p}-${i}`);
    expect(names(r.open)).toEqual([...set("b"), ...set("c")].sort());
    expect(names(r.bounded)).toEqual(set("b").sort());
    expect(names(r.all)).toEqual([...set("a"), ...set("b"), ...set("c")].sort());
    // From an offset: that partition only, starting at that message, in order.
    const samePartition = r.all.filter((m) => m.partition === r.firstB.partition);
    const fromIndex = samePartition.findIndex((m) => m.offset === r.firstB.offset);
    expect(r.byOffset.map((m) => m.value.toString())).toEqual(
      samePartition.slice(fromIndex).map((m) => m.value.toString()),
    );
  });

  it("loses nothing acked on publish when the broker restarts mid-stream", async () => {
    const topic = uniqueTopic(`restart-${kind}`);
    const group = uniqueGroup("restart");
    const { expected, seen, during } = await run(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(spec(topic));
        const seen = yield* Ref.make(new Set<string>());
        const consumer = yield* bus.consume(topic, { group, ackWaitMs: 5_000 }).pipe(
          Stream.mapEffect((d) => Ref.update(seen, (s) => new Set(s).add(text(d))).pipe(Effect.zipRight(d.ack))),
          Stream.runDrain,
          Effect.fork,
        );
        // Only publishes that returned count: those the broker acked.
        const expected = yield* Ref.make(new Set<string>());
        const publish = (prefix: string, n: number) => {
          const batch = msgs(prefix, n, (i) => `k${i}`);
          return bus.publish(topic, batch).pipe(
            Effect.zipRight(
              Ref.update(expected, (s) => new Set([...s, ...batch.map((m) => Buffer.from(m.value).toString())])),
            ),
            Effect.as(true),
            Effect.catchAll(() => Effect.succeed(false)),
          );
        };
        yield* publish("before", 50);
        // Mid-stream: the consumer is up and has taken something before the broker goes away.
        for (let i = 0; i < 600 && (yield* Ref.get(seen)).size === 0; i++) yield* Effect.sleep("100 millis");
        // A publisher keeps going through the restart; a bus that reports success before the broker
        // has the message would lose what it sent while the broker was down.
        const stop = yield* Ref.make(false);
        const publisher = yield* Effect.gen(function* () {
          let round = 0;
          while (!(yield* Ref.get(stop))) {
            yield* publish(`during${round++}`, 10);
            yield* Effect.sleep("50 millis");
          }
          return round;
        }).pipe(Effect.fork);
        yield* target.restart();
        yield* Effect.sleep("1 second");
        yield* Ref.set(stop, true);
        const during = yield* Fiber.join(publisher);
        yield* publish("after", 20);
        for (let i = 0; i < 900; i++) {
          const [s, e] = [yield* Ref.get(seen), yield* Ref.get(expected)];
          if ([...e].every((x) => s.has(x))) break;
          yield* Effect.sleep("100 millis");
        }
        const exit = yield* Fiber.interrupt(consumer);
        if (!Exit.isInterrupted(exit)) return yield* Effect.die(new Error(`consumer stopped early: ${String(exit)}`));
        return { expected: [...(yield* Ref.get(expected))], seen: yield* Ref.get(seen), during };
      }),
    );
    expect(during).toBeGreaterThan(0);
    expect(expected.filter((e) => e.startsWith("after")).length).toBe(20);
    expect(expected.filter((e) => !seen.has(e))).toEqual([]);
  }, 240_000);
}

/** The suite once per target: "bus contract on <name>". */
export const busContract = (targets: ReadonlyArray<BusTarget>): void =>
  describe.each(targets)("bus contract on $name", contract);

// Run by vitest itself: the shared single servers. Imported by a cluster test: only that cluster.
if (expect.getState().testPath === fileURLToPath(import.meta.url))
  busContract([singleServer("nats"), singleServer("kafka")]);
