// The detector service, top to bottom: provision its topics; the rules (file or built-in
// defaults, then the newest version on the rules topic, then every new version as it comes);
// the policies (static manifests); then one stage over enriched flows (group "detector": the
// topic is keyed by workload pair, so each pair's flows reach one replica, in order) and
// heartbeats, plus wall-clock ticks while the input is idle — anomalies published to
// netpulse.anomalies before the input is acked.
import * as Effect from "effect/Effect";
import * as Option from "effect/Option";
import * as Ref from "effect/Ref";
import * as Schedule from "effect/Schedule";
import * as Stream from "effect/Stream";
import { readFile } from "node:fs/promises";
import * as Data from "effect/Data";
import * as Either from "effect/Either";
import { Bus, type Delivery } from "@netpulse/runtime/bus/Bus";
import { nowMs } from "@netpulse/runtime/clock";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { serveHttpEndpoints } from "@netpulse/runtime/observability/HttpEndpoints";
import { ackQuietly, busOutput, runStage } from "@netpulse/runtime/stage/runStage";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import type { PolicyEngine } from "@netpulse/policy";
import { DetectorConfig } from "./config.js";
import { detectTransform, tickMessage } from "./detectTransform.js";
import { DetectorEngine } from "./engine/Engine.js";
import { followRules, newestRules } from "./live/RulesFeed.js";
import { policiesFromKube } from "./live/kubePolicies.js";
import { policiesFromManifests } from "./live/policies.js";
import { defaultRules, parseRules, type RuleSet } from "./rules/index.js";

export const STAGE = "detector";

export const TOPICS = [
  TopicSpecs.flowsEnriched,
  TopicSpecs.heartbeats,
  TopicSpecs.anomalies,
  TopicSpecs.rules,
  TopicSpecs.dlq,
] as const;

export class DetectorStartError extends Data.TaggedError("DetectorStartError")<{ readonly message: string }> {}

/** A rules file, or a one-line error naming the file, path and reason. */
export const loadRulesFile = (file: string) =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (e) =>
      new DetectorStartError({ message: `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }),
  }).pipe(
    Effect.flatMap((text) =>
      Either.match(parseRules(text, file), {
        onLeft: (e) => Effect.fail(new DetectorStartError({ message: e.message })),
        onRight: Effect.succeed,
      }),
    ),
  );

const makeDetectorMetrics = Effect.gen(function* () {
  const m = yield* Metrics;
  const anomalies = m.counter("netpulse_detector_anomalies_total", "Anomalies published, by kind", ["kind"]);
  const pairs = m.gauge("netpulse_detector_pairs", "Workload pairs tracked (baselines)");
  const evictions = m.gauge("netpulse_detector_pair_evictions", "Pairs dropped since start because the table was full");
  const version = m.gauge("netpulse_detector_rules_version", "Version of the rules in force");
  const lag = m.gauge("netpulse_detector_input_lag_seconds", "Wall clock minus the newest event time handled");
  const ahead = m.gauge(
    "netpulse_detector_records_ahead",
    "Records since start timed more than 15 min past their message's arrival (a node's clock ahead); the clock took the arrival",
  );
  return { m, anomalies, pairs, evictions, version, lag, ahead };
});

export const runDetector = Effect.gen(function* () {
  const config = yield* DetectorConfig;
  const bus = yield* Bus;
  const metrics = yield* makeDetectorMetrics;
  const health = yield* serveHttpEndpoints(config.metricsPort);
  yield* Effect.forEach(TOPICS, (t) => bus.provision(t), { discard: true });

  let rules: RuleSet = Option.isSome(config.rules) ? yield* loadRulesFile(config.rules.value) : defaultRules;
  const newest = yield* newestRules;
  if (newest !== undefined && newest.version > rules.version) rules = newest;
  metrics.version.set(rules.version);
  yield* Effect.logInfo(`rules version ${rules.version} in force`);

  const policies: PolicyEngine | undefined =
    config.manifests.length > 0
      ? yield* policiesFromManifests(config.manifests)
      : config.policies === "kubernetes"
        ? yield* Effect.zipLeft(
            policiesFromKube({ kubeconfig: config.kubeconfig }),
            Effect.logInfo("policy audit: Namespaces, Pods and NetworkPolicies listed from the Kubernetes API"),
          )
        : undefined;
  if (policies === undefined) yield* Effect.logInfo("policy audit off (NETPULSE_DETECTOR_POLICIES=off)");

  yield* Effect.forkScoped(
    followRules(
      `${config.group}.rules.${config.instance}`,
      () => rules,
      (r) => {
        rules = r;
        metrics.version.set(r.version);
      },
    ),
  );

  const engine = new DetectorEngine({ maxPairs: config.maxPairs });
  const transform = detectTransform(engine, () => ({ rules, policies }), `${STAGE}/${config.instance}`, {
    onAnomalies: (as) => {
      for (const a of as) metrics.anomalies.inc({ kind: a.kind });
    },
  });

  // Ticks advance event time only while nothing arrives: during a backlog the records' own
  // times lead, so catching up never looks like every node went silent.
  const lastInput = yield* Ref.make(yield* nowMs);
  // On NATS a shared durable hands any message to any member: with NETPULSE_DETECTOR_REPLICA a
  // replica keeps whole partitions (p mod N = i), so each workload pair stays on one replica, and
  // heartbeats (one partition) on replica 0. Kafka's group assigns whole partitions anyway.
  const shardsOf = (topic: string) =>
    Effect.map(bus.partitions(topic), (n) =>
      Option.match(config.replica, {
        onNone: () => undefined,
        onSome: (r) => Array.from({ length: n }, (_, p) => p).filter((p) => p % r.count === r.index),
      }),
    );
  const consume = (topic: string, partitions: ReadonlyArray<number> | undefined) =>
    partitions !== undefined && partitions.length === 0
      ? Stream.empty
      : bus
          .consume(topic, {
            group: config.group,
            maxInFlight: config.maxInFlight,
            ...(partitions === undefined ? {} : { partitions }),
          })
          .pipe(Stream.tap(() => Effect.flatMap(nowMs, (t) => Ref.set(lastInput, t))));
  const ticks = Stream.fromSchedule(Schedule.spaced(`${config.idleTickMs} millis`)).pipe(
    Stream.mapEffect(() => Effect.all([nowMs, Ref.get(lastInput)])),
    Stream.filter(([now, last]) => now - last >= config.idleTickMs),
    Stream.map(([now]): Delivery => ({ ...tickMessage(now), ack: Effect.void })),
  );
  const source = Stream.mergeAll(
    [
      consume(Topics.flowsEnriched, yield* shardsOf(Topics.flowsEnriched)),
      consume(Topics.heartbeats, yield* shardsOf(Topics.heartbeats)),
      ticks,
    ],
    {
      concurrency: 3,
    },
  );

  const publish = busOutput(STAGE);
  const report = Effect.gen(function* () {
    const s = engine.stats();
    metrics.pairs.set(s.pairsTracked);
    metrics.evictions.set(s.evictions);
    metrics.ahead.set(s.recordsAhead);
    if (s.watermarkNs > 0n) metrics.lag.set(Math.max(0, ((yield* nowMs) - Number(s.watermarkNs / 1_000_000n)) / 1000));
  }).pipe(Effect.repeat(Schedule.spaced("1 second")));
  yield* Effect.forkScoped(report);

  yield* Ref.set(health.ready, true);
  yield* Effect.logInfo(`detecting (group ${config.group})`);
  yield* runStage({
    source,
    transform,
    output: (out) =>
      Effect.gen(function* () {
        metrics.m.records.inc({ stage: STAGE, direction: "in" }, out.recordsIn);
        for (const r of out.rejected) metrics.m.dlq.inc({ stage: STAGE, reason: r.kind });
        yield* publish(out);
        metrics.m.records.inc({ stage: STAGE, direction: "out" }, out.recordsOut);
      }),
    ack: ackQuietly,
  });
}).pipe(Effect.annotateLogs({ service: STAGE }));
