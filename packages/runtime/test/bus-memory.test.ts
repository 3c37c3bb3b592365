// MemoryBus, the stand-in other stages' unit tests use: it must behave like the brokers where
// those tests can tell (per-key order, group sharing, redelivery after a restart, replay by time).
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Stream from "effect/Stream";
import * as TestClock from "effect/TestClock";
import { describe, expect, it } from "@effect/vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { MemoryBus, MemoryBusControl } from "@netpulse/runtime/bus/MemoryBus";

const topic = "netpulse.test";
const msg = (key: string, v: string) => ({ key, value: Buffer.from(v) });
const texts = (ds: Iterable<{ value: Buffer }>) => [...ds].map((d) => d.value.toString());
const take = <A>(s: Stream.Stream<A, unknown>, n: number) =>
  s.pipe(Stream.take(n), Stream.runCollect, Effect.map(Chunk.toReadonlyArray));

describe("MemoryBus", () => {
  it.effect("keeps one key on one partition, in publish order", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision({ topic, partitions: 4, retentionMs: 1000 });
      yield* bus.publish(
        topic,
        Array.from({ length: 30 }, (_, i) => msg(`k${i % 3}`, `k${i % 3}:${i}`)),
      );
      const got = yield* take(bus.consume(topic, { group: "g" }).pipe(Stream.tap((d) => d.ack)), 30);
      for (const k of ["k0", "k1", "k2"]) {
        const mine = got.filter((d) => d.key === k);
        expect(new Set(mine.map((d) => d.partition)).size).toBe(1);
        expect(texts(mine)).toEqual(texts(mine).sort((a, b) => Number(a.split(":")[1]) - Number(b.split(":")[1])));
      }
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("redelivers what a closed stream left unacked, not what it acked", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision({ topic, partitions: 1, retentionMs: 1000 });
      yield* bus.publish(topic, [msg("a", "m0"), msg("a", "m1"), msg("a", "m2")]);
      yield* take(
        bus.consume(topic, { group: "g" }).pipe(Stream.tap((d) => (d.value.toString() === "m0" ? d.ack : Effect.void))),
        3,
      );
      const again = yield* take(bus.consume(topic, { group: "g" }).pipe(Stream.tap((d) => d.ack)), 2);
      expect(texts(again)).toEqual(["m1", "m2"]);
      // Another group starts from the beginning.
      expect(texts(yield* take(bus.consume(topic, { group: "other" }), 3))).toEqual(["m0", "m1", "m2"]);
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("splits a group's work between members, each message once", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision({ topic, partitions: 4, retentionMs: 1000 });
      const member = bus
        .consume(topic, { group: "g" })
        .pipe(Stream.tap((d) => d.ack.pipe(Effect.zipRight(Effect.yieldNow()))));
      const a = yield* Effect.fork(take(member, 50));
      const b = yield* Effect.fork(take(member, 50));
      yield* Effect.yieldNow();
      yield* bus.publish(
        topic,
        Array.from({ length: 100 }, (_, i) => msg(`k${i}`, `v${i}`)),
      );
      const all = [...texts(yield* Fiber.join(a)), ...texts(yield* Fiber.join(b))];
      expect(all.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`).sort());
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("replays from a time and from an offset", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      yield* bus.provision({ topic, partitions: 2, retentionMs: 1000 });
      yield* bus.publish(topic, [msg("a", "old")]);
      yield* TestClock.adjust("1 second");
      yield* bus.publish(topic, [msg("a", "new1"), msg("b", "new2")]);
      const fromMs = 1000;
      const replayed = yield* bus.replay(topic, { _tag: "Time", fromMs }).pipe(Stream.runCollect);
      expect(texts(replayed).sort()).toEqual(["new1", "new2"]);
      expect(texts(yield* bus.replay(topic, { _tag: "Time", fromMs: 0, toMs: 999 }).pipe(Stream.runCollect))).toEqual([
        "old",
      ]);
      const first = Chunk.unsafeHead(replayed);
      const byOffset = yield* bus
        .replay(topic, { _tag: "Offset", partition: first.partition, offset: first.offset })
        .pipe(Stream.runCollect);
      expect(texts(byOffset)).toEqual([first.value.toString()]);
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("refuses an unknown topic", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      const r = yield* Effect.either(bus.publish("netpulse.nope", [msg("a", "x")]));
      expect(r._tag).toBe("Left");
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("fails the next N publishes it is told to, storing none of them", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      const control = yield* MemoryBusControl;
      yield* bus.provision({ topic, partitions: 1, retentionMs: 1000 });
      yield* bus.provision({ topic: "netpulse.other", partitions: 1, retentionMs: 1000 });
      yield* control.failPublishes(2, topic);
      yield* control.failPublishes(1);
      const tries = yield* Effect.forEach(["p0", "p1", "p2", "p3"], (v) =>
        Effect.either(bus.publish(topic, [msg("a", v)])),
      );
      expect(tries.map((t) => t._tag)).toEqual(["Left", "Left", "Left", "Right"]);
      expect(yield* Effect.either(bus.publish("netpulse.other", [msg("a", "o")]))).toMatchObject({ _tag: "Right" });
      expect(texts(yield* MemoryBus.published(topic))).toEqual(["p3"]);
      expect(yield* control.log).toEqual([
        ...Array.from({ length: 3 }, () => `publish ${topic} failed`),
        `publish ${topic} a`,
        "publish netpulse.other a",
      ]);
    }).pipe(Effect.provide(MemoryBus.layer)),
  );

  it.effect("fails acks and consumer starts on demand; a failed ack leaves its message to come back", () =>
    Effect.gen(function* () {
      const bus = yield* Bus;
      const control = yield* MemoryBusControl;
      yield* bus.provision({ topic, partitions: 1, retentionMs: 1000 });
      yield* bus.publish(topic, [msg("a", "m0"), msg("a", "m1")]);
      yield* control.failConsumes(1);
      expect(yield* Effect.either(take(bus.consume(topic, { group: "g" }), 1))).toMatchObject({ _tag: "Left" });
      yield* control.failAcks(1);
      const acks = yield* take(
        bus.consume(topic, { group: "g" }).pipe(Stream.mapEffect((d) => Effect.either(d.ack))),
        2,
      );
      expect(acks.map((a) => a._tag)).toEqual(["Left", "Right"]);
      expect(yield* control.acked).toEqual([`${topic}/0@1`]);
      const again = yield* take(bus.consume(topic, { group: "g" }).pipe(Stream.tap((d) => d.ack)), 1);
      expect(texts(again)).toEqual(["m0"]);
      expect(yield* control.acked).toEqual([`${topic}/0@1`, `${topic}/0@0`]);
    }).pipe(Effect.provide(MemoryBus.layer)),
  );
});
