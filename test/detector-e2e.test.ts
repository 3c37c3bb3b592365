// The detector service on real brokers (NATS JetStream and Kafka): enriched flows published to
// netpulse.flows.enriched give anomalies on netpulse.anomalies that name both workloads, with the
// same ids `netpulse replay` computes offline from the same batches (one transform, one engine);
// a poison message goes to the DLQ with its reason while the rest is processed; a rules version
// published at runtime applies without a restart. Flows use a namespace and node of their own,
// so other tests' traffic on the shared topics never counts.
import { randomBytes } from "node:crypto";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import { describe, expect, it } from "vitest";
import { Bus, type BusMessage } from "@netpulse/runtime/bus/Bus";
import { groupByPartition } from "@netpulse/runtime/bus/partitionGroups";
import { AnomalyCodec, EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { workloadPairKey } from "@netpulse/runtime/flowKey";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { emptyEndpoint, type Anomaly, type EnrichedFlow } from "@netpulse/runtime/records";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import {
  defaultRules,
  DetectorConfig,
  DetectorEngine,
  detectTransform,
  parseRules,
  publishRules,
  runDetector,
  type RuleSet,
} from "@netpulse/detector";
import { Kafka, logLevel } from "kafkajs";
import {
  batchRecords,
  busLayer,
  deadLetter,
  kafkaBrokers,
  recordsSince,
  type BrokerKind,
} from "./support/busHarness.js";
import { rawFlow } from "./support/rawFlow.js";

const pod = (ns: string, workload: string) => ({
  ...emptyEndpoint,
  kind: "pod",
  namespace: ns,
  pod: `${workload}-0`,
  workload_kind: "Deployment",
  workload_name: workload,
});

const flows = (ns: string, node: string, t0: bigint, from: string, srtt: (i: number) => number, n: number) =>
  Array.from({ length: n }, (_, i): EnrichedFlow => ({
    ...rawFlow({
      flow_id: BigInt(Number.parseInt(randomBytes(4).toString("hex"), 16)) * 1000n + BigInt(i),
      node,
      start_ns: t0 + BigInt(i) * 5_000_000_000n,
      end_ns: t0 + BigInt(i + 1) * 5_000_000_000n,
      src_ip: `10.9.${i % 200}.1`,
      dst_ip: "10.9.255.2",
      srtt_us: srtt(i),
      retransmits: 0n,
    }),
    src: pod(ns, from),
    dst: pod(ns, "db"),
  }));

/** Batches the way the enricher publishes them: one per partition of the workload-pair key. */
const publishFlows = (records: ReadonlyArray<EnrichedFlow>) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const n = yield* bus.partitions(Topics.flowsEnriched);
    const messages = [...groupByPartition(records, workloadPairKey, n)].map(([partition, group]) => ({
      key: workloadPairKey(group[0]!),
      partition,
      value: EnrichedFlowCodec.encodeBatch(group, { producer: "test", sequence: 0n, createdNs: group[0]!.end_ns }),
    }));
    yield* bus.publish(Topics.flowsEnriched, messages);
    return messages;
  });

const anomaliesSince = (fromMs: number, ns: string) =>
  Effect.map(recordsSince(Topics.anomalies, fromMs, batchRecords(AnomalyCodec)), (as) =>
    as.filter((a) => a.src.namespace === ns || a.dst.namespace === ns),
  );

const until = <A, E, R>(probe: Effect.Effect<A, E, R>, ok: (a: A) => boolean, seconds: number) =>
  probe.pipe(
    Effect.flatMap((a) => (ok(a) ? Effect.succeed(a) : Effect.fail("not yet" as const))),
    Effect.retry({ times: seconds * 2, schedule: Schedule.spaced("500 millis") }),
    Effect.catchAll(() => probe),
  );

/** What a fresh engine finds in the batches `publishFlows` sent, as `netpulse replay` runs it. */
const offline = (sent: ReadonlyArray<{ key: string; value: Buffer; partition: number }>, rules: RuleSet) =>
  Effect.gen(function* () {
    const out: Anomaly[] = [];
    const engine = new DetectorEngine();
    yield* runOffline(
      Stream.fromIterable(
        sent.map((m, i): BusMessage => ({ topic: Topics.flowsEnriched, ...m, offset: String(i), timestampMs: 0 })),
      ),
      detectTransform(engine, () => ({ rules, policies: undefined }), "replay", {
        onAnomalies: (as) => void out.push(...as),
      }),
      () => Effect.void,
    );
    return out;
  });

/** Until the Kafka group has two members with partitions assigned (the group protocol settled). */
const bothJoined = async (groupId: string) => {
  const admin = new Kafka({ clientId: "netpulse-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (g?.state === "Stable" && g.members.filter((m) => m.memberAssignment.length > 0).length === 2) return;
      if (Date.now() > end) throw new Error(`group ${groupId} never had two members: ${JSON.stringify(g?.state)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
};

const opened = (as: ReadonlyArray<Anomaly>, kind: string) =>
  as.filter((a) => a.kind === kind && (a.status ?? "open") === "open");

describe.each<BrokerKind>(["nats", "kafka"])("detector service on %s", (kind) => {
  it("publishes rtt_high naming both workloads, the ids replay computes; DLQs poison; obeys a new rules version", async () => {
    const ns = `e2e-${randomBytes(3).toString("hex")}`;
    const node = `node-${ns}`;
    const startMs = Date.now() - 1_000;
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const program = Effect.gen(function* () {
      const bus = yield* Bus;
      for (const t of [TopicSpecs.flowsEnriched, TopicSpecs.anomalies, TopicSpecs.rules, TopicSpecs.dlq])
        yield* bus.provision(t);
      // a clean slate for the rules: the defaults as the newest version
      const inForce = yield* publishRules(defaultRules);
      const config = DetectorConfig.make({ group: `detector-${ns}`, instance: ns, metricsPort: 0 });
      const detector = yield* Effect.fork(
        runDetector.pipe(Effect.provide(Layer.succeed(DetectorConfig, config)), Effect.scoped),
      );

      // 1. one slow window among normal ones → rtt_high, same id as offline
      const slow = flows(ns, node, t0, "web", (i) => (i === 3 ? 250_000 : 2_000), 6);
      const sent = yield* publishFlows(slow);
      const live = yield* until(anomaliesSince(startMs, ns), (as) => opened(as, "rtt_high").length > 0, 60);
      const rtt = opened(live, "rtt_high");
      expect(rtt).toHaveLength(1);
      expect(rtt[0]!.src.workload_name).toBe("web");
      expect(rtt[0]!.dst.workload_name).toBe("db");
      expect(rtt[0]!.sample_flow_ids).toContain(slow[3]!.flow_id);
      const expected = yield* offline(sent, inForce);
      expect(opened(expected, "rtt_high").map((a) => a.id)).toEqual(rtt.map((a) => a.id));

      // 2. poison on the enriched topic → DLQ with the reason; the next flows still processed
      const poisonAt = Date.now() - 1_000;
      yield* bus.publish(Topics.flowsEnriched, [{ key: ns, value: Buffer.from(`poison ${ns}`), partition: 0 }]);
      const dead = yield* until(
        Effect.map(recordsSince(Topics.dlq, poisonAt, deadLetter), (ds) =>
          ds.filter((d) => d.stage === "detector" && d.original.toString().includes(ns)),
        ),
        (d) => d.length > 0,
        60,
      );
      expect(dead[0]!.reason).toMatch(/Avro|batch|undecodable/i);

      // 3. a new rules version raising the RTT threshold applies without a restart: a second
      //    pair's 250 ms window no longer fires, while its retransmits still do.
      const raised = Either.getOrThrow(parseRules("rules:\n  rtt_high: { threshold_ms: 1000 }\n", "raised.yaml"));
      const v = yield* publishRules(raised);
      yield* Effect.sleep("2 seconds");
      const t1 = t0 + 100_000_000_000n;
      const second = flows(ns, node, t1, "api", () => 250_000, 2).map((f, i) =>
        i === 1 ? { ...f, retransmits: 9n } : f,
      );
      yield* publishFlows(second);
      const after = yield* until(
        anomaliesSince(startMs, ns),
        (as) => opened(as, "retransmits_high").some((a) => a.src.workload_name === "api"),
        60,
      );
      const apiRtt = opened(after, "rtt_high").filter((a) => a.src.workload_name === "api");
      expect(apiRtt).toHaveLength(0);
      const retrans = opened(after, "retransmits_high").find((a) => a.src.workload_name === "api")!;
      expect(retrans.rule_version).toBe(v.version);

      yield* publishRules(defaultRules);
      yield* Fiber.interrupt(detector);
    });
    await Effect.runPromise(
      program.pipe(Effect.provide(Layer.merge(busLayer(kind), Metrics.layerTest)), Effect.scoped),
    );
  }, 240_000);

  it("two replicas in one group give exactly the anomalies one engine gives", async () => {
    const ns = `e2e-${randomBytes(3).toString("hex")}`;
    const startMs = Date.now() - 1_000;
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const program = Effect.gen(function* () {
      const bus = yield* Bus;
      for (const t of [TopicSpecs.flowsEnriched, TopicSpecs.anomalies, TopicSpecs.rules, TopicSpecs.dlq])
        yield* bus.provision(t);
      const inForce = yield* publishRules(defaultRules);
      const replicas = yield* Effect.forEach([0, 1], (index) =>
        Effect.fork(
          runDetector.pipe(
            Effect.provide(
              Layer.succeed(
                DetectorConfig,
                DetectorConfig.make({
                  group: `detector-${ns}`,
                  instance: `${ns}-${index}`,
                  metricsPort: 0,
                  replica: Option.some({ index, count: 2 }),
                }),
              ),
            ),
            // a process of its own would have its own registry
            Effect.provide(Metrics.layerTest),
            Effect.scoped,
          ),
        ),
      );
      // Kafka hands a group's partitions out as members join: wait until both replicas hold some,
      // or the first one would simply take everything.
      if (kind === "kafka") yield* Effect.promise(() => bothJoined(`detector-${ns}.${Topics.flowsEnriched}`));
      // 16 workload pairs, each on a node of its own (no node-wide hint), each with one slow window
      const all = Array.from({ length: 16 }, (_, k) =>
        flows(ns, `node-${ns}-${k}`, t0, `app${k}`, (i) => (i === 2 + (k % 3) ? 180_000 + k : 2_000), 5),
      ).flat();
      const sent = yield* publishFlows(all);
      const live = yield* until(anomaliesSince(startMs, ns), (as) => opened(as, "rtt_high").length >= 16, 90);
      const expected = yield* offline(sent, inForce);
      const ids = (as: ReadonlyArray<Anomaly>) =>
        opened(as, "rtt_high")
          .map((a) => a.id)
          .sort();
      expect(ids(live)).toEqual(ids(expected));
      expect(ids(live)).toHaveLength(16);
      // and both replicas did part of the work
      const producers = yield* bus.replay(Topics.anomalies, { _tag: "Time", fromMs: startMs }).pipe(
        Stream.runCollect,
        Effect.map(
          (c) =>
            new Set(
              [...c].flatMap((m) => {
                const b = AnomalyCodec.decodeBatch(m.value);
                return Either.isRight(b) && b.right.records.some((a) => a.src.namespace === ns)
                  ? [b.right.header.producer]
                  : [];
              }),
            ),
        ),
      );
      expect([...producers].sort()).toEqual([`detector/${ns}-0`, `detector/${ns}-1`]);
      yield* Effect.forEach(replicas, Fiber.interrupt, { discard: true });
    });
    await Effect.runPromise(
      program.pipe(Effect.provide(Layer.merge(busLayer(kind), Metrics.layerTest)), Effect.scoped),
    );
  }, 240_000);
});
