// A window replayed from each source gives the anomalies the live detector published for it
// (issue 17): the detector service runs in-process on real brokers, enriched flows with slow and
// lossy windows for a namespace of the test's own are published, and what the detector published
// on netpulse.anomalies for that namespace is collected. Then the real CLI replays the same window
// from (a) the topic (`--from/--to --bus`), (b) ClickHouse (`--clickhouse --where`, the flows
// written with the sink's own writer) and (c) a file, with `--rules` of the rule set in force (the
// defaults, published as a new version first, so the ids, which carry the version, compare
// exactly): the opened anomalies' ids, kinds and pairs are equal. NATS and Kafka are servers of
// the test's own (isolatedServices: no other run's rule versions or backlog); ClickHouse is the
// shared one, in a throwaway database.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Schedule from "effect/Schedule";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouse } from "@netpulse/clickhouse";
import { Bus, type BusError } from "@netpulse/runtime/bus/Bus";
import { KafkaBus } from "@netpulse/runtime/bus/KafkaBus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { groupByPartition } from "@netpulse/runtime/bus/partitionGroups";
import { AnomalyCodec, EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { workloadPairKey } from "@netpulse/runtime/flowKey";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { emptyEndpoint, type Anomaly, type EnrichedFlow } from "@netpulse/runtime/records";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { defaultRules, DetectorConfig, encodeRules, publishRules, runDetector } from "@netpulse/detector";
import { makeRowEncoder } from "../services/sink/src/rows/RowEncoder.js";
import { migrate } from "../services/sink/src/schema/Migrator.js";
import { flows as flowsTable } from "../services/sink/src/schema/tables.js";
import { writeBatch } from "../services/sink/src/write/TableWriter.js";
import { clickhouseUrl, dropDb, run, uniqueDb } from "../services/sink/test/fixtures.js";
import { isolatedServices, type Isolated } from "../services/sink/test/harness.js";
import { batchRecords, recordsSince } from "./support/busHarness.js";
import { rawFlow } from "./support/rawFlow.js";

type BrokerKind = "nats" | "kafka";

const db = uniqueDb("np_replay_live");
const dir = mkdtempSync(join(tmpdir(), "netpulse-replay-live-"));
let services: Isolated | undefined;

beforeAll(async () => {
  services = await isolatedServices();
  services.up("nats");
  services.up("kafka");
}, 180_000);
afterAll(async () => {
  services?.cleanup();
  rmSync(dir, { recursive: true, force: true });
  await dropDb(db);
}, 120_000);

const busLayer = (kind: BrokerKind): Layer.Layer<Bus, BusError> =>
  kind === "nats"
    ? NatsBus.layer({ _tag: "nats", url: services!.natsUrl, name: "netpulse-test" })
    : KafkaBus.layer({ _tag: "kafka", brokers: [services!.kafkaBrokers], clientId: "netpulse-test" });

const pod = (ns: string, workload: string, node: string) => ({
  ...emptyEndpoint,
  kind: "pod",
  namespace: ns,
  node,
  pod: `${workload}-0`,
  workload_kind: "Deployment",
  workload_name: workload,
});

const WINDOWS = 8;
const WINDOW_NS = 5_000_000_000n;

/**
 * 12 workload pairs (each on a node of its own), 8 windows of 5 s each: pair k has a slow window
 * (rtt_high) when k % 3 != 2 and a lossy one (retransmits_high) when k % 3 != 1, at moments that
 * differ by pair; the rest is normal. In window-end order, as the capture emits them.
 */
const traffic = (ns: string, t0: bigint): EnrichedFlow[] => {
  const out: EnrichedFlow[] = [];
  const idBase = BigInt(Number.parseInt(randomBytes(3).toString("hex"), 16)) * 10_000n;
  for (let w = 0; w < WINDOWS; w++)
    for (let k = 0; k < 12; k++) {
      const slow = k % 3 !== 2 && w === 2 + (k % 4);
      const lossy = k % 3 !== 1 && w === 6 - (k % 3);
      const node = `node-${ns}-${k}`;
      out.push({
        ...rawFlow({
          flow_id: idBase + BigInt(w * 100 + k),
          node,
          start_ns: t0 + BigInt(w) * WINDOW_NS,
          end_ns: t0 + BigInt(w + 1) * WINDOW_NS,
          src_ip: `10.77.${k}.1`,
          dst_ip: `10.78.${k}.2`,
          srtt_us: slow ? 260_000 + k : 2_000 + k,
          retransmits: lossy ? 12n : 0n,
        }),
        src: pod(ns, `client${k}`, node),
        dst: pod(ns, `server${k}`, node),
      });
    }
  return out;
};

/** Batches the way the enricher publishes them: one per partition of the workload-pair key, per window. */
const publishFlows = (records: ReadonlyArray<EnrichedFlow>) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const n = yield* bus.partitions(Topics.flowsEnriched);
    for (let w = 0; w < WINDOWS; w++) {
      const window = records.filter((_, i) => Math.floor(i / 12) === w);
      yield* bus.publish(
        Topics.flowsEnriched,
        [...groupByPartition(window, workloadPairKey, n)].map(([partition, group]) => ({
          key: workloadPairKey(group[0]!),
          partition,
          value: EnrichedFlowCodec.encodeBatch(group, {
            producer: "test",
            sequence: BigInt(w),
            createdNs: group[0]!.end_ns,
          }),
        })),
      );
    }
  });

const ofNamespace = (as: ReadonlyArray<Anomaly>, ns: string) =>
  as.filter((a) => a.src.namespace === ns || a.dst.namespace === ns);

const liveAnomalies = (fromMs: number, ns: string) =>
  Effect.map(recordsSince(Topics.anomalies, fromMs, batchRecords(AnomalyCodec)), (as) => ofNamespace(as, ns));

interface Opened {
  readonly id: string;
  readonly kind: string;
  readonly pair: string;
}

/** The opened anomalies, by id: what each source is compared on. */
const opened = (as: ReadonlyArray<{ id: unknown; kind: unknown; pair?: unknown; status?: unknown }>): Opened[] =>
  as
    .filter((a) => (a.status ?? "open") === "open")
    .map((a) => ({ id: String(a.id), kind: String(a.kind), pair: String(a.pair) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

const netpulse = (kind: BrokerKind, args: ReadonlyArray<string>) => {
  const r = spawnSync(
    "node_modules/.bin/tsx",
    ["--tsconfig", "tsconfig.eslint.json", "packages/cli/src/main.ts", "replay", ...args],
    {
      encoding: "utf8",
      timeout: 90_000,
      env: {
        ...process.env,
        NETPULSE_BUS: kind,
        NETPULSE_NATS_URL: services!.natsUrl,
        NETPULSE_KAFKA_BROKERS: services!.kafkaBrokers,
        NETPULSE_CLICKHOUSE_URL: clickhouseUrl,
        NETPULSE_CLICKHOUSE_DATABASE: db,
      },
    },
  );
  expect(r.status, `replay ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Anomaly);
};

/** Through the sink's own row encoder and writer, as the sink service stores them. */
const sinkWrite = (rows: ReadonlyArray<EnrichedFlow>) =>
  run(
    db,
    Effect.gen(function* () {
      const state = yield* migrate();
      const enc = makeRowEncoder(flowsTable, state.server.dialect, (yield* ClickHouse).database);
      return yield* writeBatch(enc, [...rows]);
    }),
  );

const iso = (ms: number) => new Date(ms).toISOString();

describe.each<BrokerKind>(["nats", "kafka"])("replay vs the live detector on %s", (kind) => {
  it("a window replayed from the topic, ClickHouse and a file gives the anomalies the detector published", async () => {
    const ns = `rvl-${randomBytes(3).toString("hex")}`;
    // event time: now, so `--rules` of the version in force matches the live detector's
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const flows = traffic(ns, t0);
    const expectedOpenings = flows.filter((f) => f.srtt_us > 200_000 || f.retransmits > 0n).length;

    const live = await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        for (const t of [TopicSpecs.flowsEnriched, TopicSpecs.anomalies, TopicSpecs.rules, TopicSpecs.dlq])
          yield* bus.provision(t);
        // the rule set in force: the defaults as the newest version
        const inForce = yield* publishRules(defaultRules);
        const config = DetectorConfig.make({ group: `detector-${ns}`, instance: ns, metricsPort: 0 });
        const detector = yield* Effect.fork(
          runDetector.pipe(Effect.provide(Layer.succeed(DetectorConfig, config)), Effect.scoped),
        );
        const fromMs = Date.now() - 1;
        yield* publishFlows(flows);
        const toMs = Date.now() + 1;
        const enough = (as: ReadonlyArray<Anomaly>) => opened(as).length >= expectedOpenings;
        yield* liveAnomalies(fromMs, ns).pipe(
          Effect.flatMap((as) => (enough(as) ? Effect.void : Effect.fail("not yet" as const))),
          Effect.retry({ times: 120, schedule: Schedule.spaced("500 millis") }),
          Effect.orElse(() => Effect.void),
        );
        // a moment more: anything the detector would still add counts too
        yield* Effect.sleep("1500 millis");
        const published = yield* liveAnomalies(fromMs, ns);
        yield* Fiber.interrupt(detector);
        return { published, inForce, fromMs, toMs };
      }).pipe(Effect.provide(Layer.merge(busLayer(kind), Metrics.layerTest)), Effect.scoped),
    );

    const want = opened(live.published);
    // the detector opened every slow and lossy window, both kinds, and each pair's are its own
    expect(want).toHaveLength(expectedOpenings);
    expect(new Set(want.map((a) => a.kind))).toEqual(new Set(["rtt_high", "retransmits_high"]));
    expect(new Set(want.map((a) => a.id)).size).toBe(want.length);
    // judged by the version just published (the id carries it)
    expect(new Set(live.published.map((a) => a.rule_version))).toEqual(new Set([live.inForce.version]));

    const rulesFile = join(dir, `rules-${ns}.json`);
    writeFileSync(rulesFile, encodeRules(live.inForce));
    const rules = ["--rules", rulesFile];

    // (a) the topic's window
    const fromTopic = netpulse(kind, ["--from", iso(live.fromMs), "--to", iso(live.toMs), "--bus", kind, ...rules]);
    expect(opened(ofNamespace(fromTopic, ns))).toEqual(want);

    // (b) ClickHouse: the same flows as the sink writes them, the window by flow start, this namespace
    expect(await sinkWrite(flows)).toMatchObject({ inserted: flows.length, rejected: [] });
    const t0Ms = Number(t0 / 1_000_000n);
    const fromClickHouse = netpulse(kind, [
      "--clickhouse",
      "--from",
      iso(t0Ms - 60_000),
      "--to",
      iso(t0Ms + WINDOWS * 5_000 + 60_000),
      "--where",
      `src_namespace = '${ns}'`,
      ...rules,
    ]);
    expect(opened(fromClickHouse)).toEqual(want);

    // (c) a file of the same flows
    const file = join(dir, `${ns}.jsonl`);
    writeFileSync(file, flows.map((f) => `${toJsonLine(f)}\n`).join(""));
    expect(opened(netpulse(kind, ["--input", file, ...rules]))).toEqual(want);
  }, 150_000);
});
