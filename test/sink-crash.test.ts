// kill -9 of the real sink process between "ClickHouse accepted the batch" and "bus ack" (a proxy
// in front of ClickHouse kills it as the first insert's 200 comes back), then a restart: the redelivered messages are skipped,
// not doubled. On both buses: a real nats-server (JetStream redelivers what was never acked) and
// a real Kafka broker (the restarted member resumes from the last committed offset), each
// isolated via scripts/services.sh, and the real ClickHouse.
import * as Effect from "effect/Effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { Topics } from "@netpulse/runtime/topics";
import { inputTopics } from "../services/sink/src/SinkService.js";
import { clickhouseUrl, count, dropDb, makeFlows, uniqueDb } from "../services/sink/test/fixtures.js";
import {
  freePort,
  isolatedServices,
  metricValue,
  startSink,
  waitFor,
  type Isolated,
} from "../services/sink/test/harness.js";
import { busFromEnv } from "./support/busHarness.js";
import { killAfterInsert } from "./support/killAfterInsert.js";

const BATCHES = 12;
const PER_BATCH = 1000;

type Kind = "nats" | "kafka";
const busEnv = (kind: Kind, svc: Isolated): Record<string, string> =>
  kind === "nats"
    ? { NETPULSE_BUS: "nats", NETPULSE_NATS_URL: svc.natsUrl }
    : { NETPULSE_BUS: "kafka", NETPULSE_KAFKA_BROKERS: svc.kafkaBrokers };

/** Publish through the bus the sink will read, configured from the same environment. */
const publish = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const bus = yield* Bus;
        for (const t of inputTopics) yield* bus.provision(t);
        const flows = makeFlows(BATCHES * PER_BATCH, { idBase: 40_000_000n });
        const messages = Array.from({ length: BATCHES }, (_, i) => ({
          key: `pair-${i % 4}`,
          value: EnrichedFlowCodec.encodeBatch(flows.slice(i * PER_BATCH, (i + 1) * PER_BATCH), {
            producer: "enricher/crash-test",
            sequence: BigInt(i),
          }),
        }));
        yield* bus.publish(Topics.flowsEnriched, messages);
      }).pipe(Effect.provide(busFromEnv(env))),
    ),
  );

describe.each<Kind>(["nats", "kafka"])("sink on %s: kill -9 between insert and ack", (kind) => {
  const db = uniqueDb(`np_crash_${kind}`);
  let svc: Isolated;
  beforeAll(async () => {
    svc = await isolatedServices();
    svc.up(kind);
    await dropDb(db);
  });
  afterAll(async () => {
    svc.cleanup();
    await dropDb(db);
  });

  it("leaves no duplicate after the restart, and loses nothing", async () => {
    await publish(busEnv(kind, svc));
    const env = {
      ...busEnv(kind, svc),
      NETPULSE_CLICKHOUSE_URL: clickhouseUrl,
      NETPULSE_CLICKHOUSE_DATABASE: db,
      NETPULSE_SINK_GROUP: "sink-crash",
      NETPULSE_SINK_BATCH_ROWS: "3000",
      NETPULSE_SINK_LINGER_MS: "200",
      NETPULSE_SINK_ACK_WAIT_MS: "3000",
      NETPULSE_SINK_HTTP_PORT: String(await freePort()),
    };
    const proxy = await killAfterInsert(clickhouseUrl, "flows");
    const doomed = startSink({ ...env, NETPULSE_CLICKHOUSE_URL: proxy.url });
    proxy.victim = doomed.child.pid;
    const died = await doomed.exited;
    await proxy.close();
    expect(proxy.killed(), doomed.output()).toBe(true);
    expect(died.signal, doomed.output()).toBe("SIGKILL");
    const afterCrash = await count(db, `SELECT count() FROM ${db}.flows`);
    expect(afterCrash).toBeGreaterThan(0); // the batch went in, its messages were never acked
    expect(afterCrash).toBeLessThan(BATCHES * PER_BATCH);

    const sink = startSink(env);
    try {
      await waitFor(
        "all rows",
        async () => (await count(db, `SELECT count() FROM ${db}.flows`)) >= BATCHES * PER_BATCH,
      );
      // the un-acked messages of the killed run came back and were recognised as stored
      await waitFor(
        "redelivery skipped",
        async () => metricValue(await sink.metrics(), "netpulse_sink_duplicates_total", 'table="flows"') >= afterCrash,
      );
      await new Promise((r) => setTimeout(r, 4000)); // > ack wait: anything still redelivered has come back
      expect(await count(db, `SELECT count() FROM ${db}.flows`)).toBe(BATCHES * PER_BATCH);
      expect(await count(db, `SELECT uniqExact(flow_id, start_ns) FROM ${db}.flows`)).toBe(BATCHES * PER_BATCH);
      expect(await count(db, `SELECT countMerge(flows) FROM ${db}.flows_pair_minute`)).toBe(BATCHES * PER_BATCH);
    } finally {
      sink.child.kill("SIGTERM");
      await sink.exited;
    }
  }, 150_000); // Kafka: the restarted member waits out the killed one's 30 s session
});
