// Poison for every topic the chain reads: random bytes, a truncated Avro batch, a batch envelope
// naming a writer-schema fingerprint no schema has, the largest message the broker takes, and one
// of 10 MB. Which stages must dead-letter a topic's poison is the consumer table below;
// the DLQ is read back and each poison message matched by its original bytes.
import * as Effect from "effect/Effect";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec, EnrichedFlowCodec, HeartbeatCodec, RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { DeadLetter } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { deadLetter, recordsSince } from "../../support/busHarness.js";
import { rawFlow } from "../../support/rawFlow.js";

/** Who reads each topic, hence who must dead-letter what is published there. */
export const consumers: Readonly<Record<string, ReadonlyArray<string>>> = {
  [Topics.flowsRaw]: ["enricher"],
  [Topics.flowsEnriched]: ["detector", "sink"],
  [Topics.heartbeats]: ["detector", "sink"],
  [Topics.anomalies]: ["sink"],
};

export interface Poison {
  readonly topic: string;
  readonly variant: string;
  readonly value: Buffer;
}

const seeded = (seed: number, n: number): Buffer => {
  let s = seed >>> 0;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
};

/** The same envelope with its fingerprint replaced by one no schema has (same length, so the Avro stays valid). */
const unknownFingerprint = (good: Buffer, fingerprint: string): Buffer => {
  const at = good.indexOf(Buffer.from(fingerprint, "latin1"));
  if (at < 0) throw new Error("fingerprint not found in the envelope");
  const bad = Buffer.from(good);
  bad.write("0".repeat(fingerprint.length), at, "latin1");
  return bad;
};

/** A well-formed batch per topic: raw and heartbeats made here, enriched and anomalies taken from the run. */
export const goodSamples = (node: string, taken: { enriched: Buffer; anomaly: Buffer }) => {
  const raw = RawFlowCodec.encodeBatch(
    Array.from({ length: 50 }, (_, i) => rawFlow({ flow_id: 9_000_000_000n + BigInt(i), node })),
    { producer: "poison", sequence: 0n },
  );
  const beat = HeartbeatCodec.encodeBatch(
    [
      {
        node,
        ts_ns: BigInt(Date.now()) * 1_000_000n,
        conntrack_count: 10n,
        conntrack_max: 1000n,
        conntrack_insert_failed: 0n,
        conntrack_drop: 0n,
        flows_tracked: 1n,
        records_published: 1n,
        dropped_ringbuf: 0n,
        dropped_queue: 0n,
        sampling: 1,
      },
    ],
    { producer: "poison", sequence: 0n },
  );
  return {
    [Topics.flowsRaw]: { value: raw, fingerprint: RawFlowCodec.fingerprint },
    [Topics.flowsEnriched]: { value: taken.enriched, fingerprint: EnrichedFlowCodec.fingerprint },
    [Topics.heartbeats]: { value: beat, fingerprint: HeartbeatCodec.fingerprint },
    [Topics.anomalies]: { value: taken.anomaly, fingerprint: AnomalyCodec.fingerprint },
  };
};

export const poisons = (samples: ReturnType<typeof goodSamples>): Poison[] =>
  Object.entries(samples).flatMap(([topic, good], t) => [
    { topic, variant: "random bytes", value: seeded(1000 + t, 4096) },
    { topic, variant: "truncated Avro", value: good.value.subarray(0, Math.floor(good.value.length * 0.6)) },
    { topic, variant: "unknown schema fingerprint", value: unknownFingerprint(good.value, good.fingerprint) },
  ]);

/**
 * Random bytes as large as the broker takes on `topic` (its limit less the bus's headers, tried
 * from `firstSlack` bytes under it): its dead letter, the same bytes plus where they came from and
 * why, is larger than that.
 */
export const largestPoison = (topic: string, maxPayload: number, t: number, firstSlack = 16) =>
  Effect.flatMap(Bus, (bus) =>
    Effect.gen(function* () {
      for (let slack = firstSlack; slack < 4096; slack *= 2) {
        const value = seeded(2000 + t, maxPayload - slack);
        const ok = yield* bus.publish(topic, [{ key: "poison-largest", value, partition: 0 }]).pipe(
          Effect.as(true),
          Effect.catchAll(() => Effect.succeed(false)),
        );
        if (ok) return { topic, variant: `largest the broker takes (its limit - ${slack} B)`, value };
      }
      return yield* Effect.dieMessage(`no message near max_payload ${maxPayload} was accepted on ${topic}`);
    }),
  );

export const TEN_MB = 10 * 1024 * 1024;

/** Everything on the DLQ since `fromMs`. */
export const deadLettersSince = (fromMs: number) => recordsSince(Topics.dlq, fromMs, deadLetter);

/** The original whole, or (a large one, packages/runtime/src/bus/deadLetter.ts) its head with its size named. */
const sameOriginal = (d: DeadLetter, value: Buffer): boolean =>
  d.original.equals(value) ||
  (d.original.length > 0 &&
    value.subarray(0, d.original.length).equals(d.original) &&
    d.reason.includes(`original of ${value.length} bytes`));

/** For each poison and each stage that reads its topic: the dead letter, or undefined when missing. */
export const match = (ps: ReadonlyArray<Poison>, dead: ReadonlyArray<DeadLetter>) =>
  ps.flatMap((p) =>
    (consumers[p.topic] ?? []).map((stage) => ({
      poison: p,
      stage,
      letter: dead.find((d) => d.stage === stage && d.topic === p.topic && sameOriginal(d, p.value)),
    })),
  );
