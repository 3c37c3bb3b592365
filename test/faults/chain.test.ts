// The whole chain under faults (issue 19): a synthetic capture publishes numbered raw flows
// (flow_id = sequence number, a node of the run's own, a slow window now and then) to
// netpulse.flows.raw on a nats-server of the run's own; the real enricher, detector and sink run
// as processes from their entry points and write into a ClickHouse database of the run's own.
// After each fault ClickHouse must hold exactly the input — as many rows as flows sent and as
// many distinct (flow_id, start_ns), ids 1..sent — and every anomaly once: count() equal to
// uniqExact(id, status), one rtt_high opening per slow window sent, the same ids `netpulse
// replay` computes from the enriched topic. The scenarios share one chain and run in order, each
// checking everything sent since the start:
//   1. kill -9 of the enricher, then the detector, then the sink, each at a random moment while
//      it drains a backlog (frozen a few seconds first, so the kill finds work in flight), each
//      restarted at once;
//      then the capture's publisher "killed" before it saw its last acks: the synthetic capture
//      sends its last batches again, as a restarted one would (same records, new messages);
//   2. the nats-server stopped and started again mid-stream (its JetStream data kept);
//   3. poison on every topic the chain reads (random bytes, truncated Avro, an unknown schema
//      fingerprint, the largest message the broker takes): each lands on netpulse.dlq, from every
//      stage that reads the topic, with the stage and a reason, while the stream goes on; a 10 MB
//      message is refused by nats-server at publish (max_payload, 1 MiB by default).
import { spawnSync } from "node:child_process";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import type { Anomaly } from "@netpulse/runtime/records";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { until } from "../support/processes.js";
import { SyntheticCapture } from "./support/capture.js";
import { Chain, clickhouseUrl, type ChainService } from "./support/chain.js";
import { consumers, deadLettersSince, goodSamples, largestPoison, match, poisons, TEN_MB } from "./support/poison.js";
import { DuplicateWatch, stored, type Stored } from "./support/store.js";

const chain = new Chain();
let capture: SyntheticCapture;
let watch: DuplicateWatch;
const startedMs = Date.now();

const random = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

/** Until ClickHouse holds every flow sent and an opening per slow window, then a moment more for late repeats. */
const settled = async (what: string): Promise<Stored> => {
  let s: Stored | undefined;
  await until(
    `${what}: ${capture.sent} flows and ${capture.slow} rtt_high openings in ClickHouse`,
    async () => {
      s = await stored(chain.database, chain.node);
      return s.rows >= capture.sent && s.rttOpened.length >= capture.slow;
    },
    150_000,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; stored ${JSON.stringify(s)}\n${chain.logs()}`);
  });
  // anything still in flight (a redelivery) would show up now
  await new Promise((r) => setTimeout(r, 3_000));
  s = await stored(chain.database, chain.node);
  console.log(
    `[faults] ${what}: sent ${capture.sent} flows (${capture.slow} slow, ${capture.resent} sent twice, ` +
      `${capture.publishFailures} publish retries);` +
      ` stored ${s.rows} rows, ${s.distinct} distinct, ids ${s.minId}..${s.maxId};` +
      ` anomalies ${s.anomalyRows} rows, ${s.anomalyDistinct} distinct (id, status), ${s.rttOpened.length} rtt_high opened;` +
      ` duplicates at worst ${JSON.stringify(watch.worst)}`,
  );
  return s;
};

const expectExactlyOnce = (s: Stored) => {
  expect(chain.crashed()).toEqual([]);
  // never a duplicate at any moment, not only once merges have run
  expect({ flows: watch.worst.flows, anomalies: watch.worst.anomalies }).toEqual({ flows: 0, anomalies: 0 });
  expect({ rows: s.rows, distinct: s.distinct, minId: s.minId, maxId: s.maxId }).toEqual({
    rows: capture.sent,
    distinct: capture.sent,
    minId: 1,
    maxId: capture.sent,
  });
  expect(s.anomalyRows).toBe(s.anomalyDistinct);
  expect(s.rttOpened).toHaveLength(capture.slow);
};

const killAndRestart = (s: ChainService) => async () => {
  const frozenMs = random(2_000, 4_000);
  const afterMs = random(20, 400);
  console.log(`[faults] kill -9 ${s} after ${capture.sent} flows, ${afterMs} ms into a ${frozenMs} ms backlog`);
  await chain.kill9(s, frozenMs, afterMs);
  await chain.start(s);
};

beforeAll(async () => {
  await chain.up();
  await chain.runtime.runPromise(
    Effect.flatMap(Bus, (bus) => Effect.forEach(Object.values(TopicSpecs), (t) => bus.provision(t))),
  );
  capture = new SyntheticCapture(chain.runtime, chain.node);
  watch = new DuplicateWatch(chain.database, chain.node);
  watch.start();
}, 240_000);

afterAll(async () => {
  await watch?.stop();
  await chain.down();
  await fetch(clickhouseUrl, { method: "POST", body: `DROP DATABASE IF EXISTS ${chain.database}` }).catch(
    () => undefined,
  );
}, 120_000);

describe("the whole chain under faults, on NATS", () => {
  it("kill -9 of enricher, detector and sink mid-stream, restarted; the capture re-sending: 0 lost, 0 duplicated", async () => {
    await capture.streamFor(36_000, [
      [random(2_000, 7_000), killAndRestart("enricher")],
      [random(13_000, 18_000), killAndRestart("detector")],
      [random(24_000, 29_000), killAndRestart("sink")],
      [
        random(31_000, 34_000),
        async () => {
          console.log(
            `[faults] the capture's publisher "restarts" after ${capture.sent} flows: its last 5 batches again`,
          );
          await capture.resendLast(5);
        },
      ],
    ]);
    expectExactlyOnce(await settled("after kill -9 of each service"));
  }, 300_000);

  it("nats-server restarted mid-stream: 0 lost, 0 duplicated", async () => {
    await capture.streamFor(16_000, [
      [
        random(3_000, 8_000),
        async () => {
          console.log(`[faults] nats-server restart after ${capture.sent} flows`);
          await chain.restartNats(3_000);
        },
      ],
    ]);
    expectExactlyOnce(await settled("after the nats-server restart"));
  }, 240_000);

  it("the rtt_high openings are the ids `netpulse replay` computes from the enriched topic", async () => {
    const r = spawnSync(
      "node_modules/.bin/tsx",
      [
        "--tsconfig",
        "tsconfig.eslint.json",
        "packages/cli/src/main.ts",
        "replay",
        "--from",
        new Date(startedMs - 60_000).toISOString(),
        "--to",
        new Date().toISOString(),
        "--bus",
        "nats",
        "--rules",
        chain.files.rules,
        "--manifests",
        chain.files.manifests,
      ],
      { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...chain.env } },
    );
    expect(r.status, r.stderr).toBe(0);
    const replayed = r.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Anomaly)
      .filter((a) => a.kind === "rtt_high" && (a.status ?? "open") === "open")
      .map((a) => a.id)
      .sort();
    const s = await stored(chain.database, chain.node);
    expect(replayed).toHaveLength(capture.slow);
    expect(s.rttOpened).toEqual(replayed);
  }, 180_000);

  it("poison on every topic the chain reads goes to netpulse.dlq with stage and reason; the rest is delivered", async () => {
    const fromMs = Date.now() - 1_000;
    const first = (topic: string) =>
      chain.runtime.runPromise(
        Effect.flatMap(Bus, (bus) =>
          bus.replay(topic, { _tag: "Time", fromMs: startedMs - 60_000 }).pipe(
            Stream.filter((m) => topic !== Topics.anomalies || AnomalyCodec.decodeBatch(m.value)._tag === "Right"),
            Stream.take(1),
            Stream.runCollect,
          ),
        ),
      );
    const [enriched] = await first(Topics.flowsEnriched);
    const [anomaly] = await first(Topics.anomalies);
    const varz = (await (
      await fetch(`http://127.0.0.1:${chain.services.env["NETPULSE_NATS_MONITOR_PORT"]}/varz`)
    ).json()) as { max_payload: number };
    const ps = poisons(goodSamples(chain.node, { enriched: enriched!.value, anomaly: anomaly!.value }));
    let tenMb = "";
    await capture.streamFor(12_000, [
      [
        2_000,
        async () => {
          await chain.runtime.runPromise(
            Effect.flatMap(Bus, (bus) =>
              Effect.forEach(ps, (p) =>
                bus.publish(p.topic, [{ key: `poison-${p.variant}`, value: p.value, partition: 0 }]),
              ),
            ),
          );
          // found here: its dead letter was over max_payload and the stage retried it forever
          for (const [t, topic] of Object.keys(consumers).entries())
            ps.push(await chain.runtime.runPromise(largestPoison(topic, varz.max_payload, t)));
          // the broker's own limit decides whether a 10 MB message exists at all
          tenMb = await chain.runtime
            .runPromise(
              Effect.flatMap(Bus, (bus) =>
                bus.publish(Topics.flowsRaw, [{ key: "poison-10mb", value: Buffer.alloc(TEN_MB, 7), partition: 0 }]),
              ),
            )
            .then(
              () => "accepted",
              (e: unknown) => `refused: ${String(e)}`,
            );
        },
      ],
    ]);
    expectExactlyOnce(await settled("after poison on every topic"));

    let found: ReturnType<typeof match> = [];
    await until(
      "every poison message dead-lettered by every stage that reads its topic",
      async () => {
        found = match(ps, await chain.runtime.runPromise(deadLettersSince(fromMs)));
        return found.every((f) => f.letter !== undefined);
      },
      60_000,
    ).catch(() => undefined);
    for (const f of found)
      console.log(
        `[faults] ${f.poison.topic} ${f.poison.variant} (${f.poison.value.length} B) → ${f.stage}: ` +
          (f.letter === undefined ? "MISSING" : `${f.letter.error_kind}: ${f.letter.reason}`),
      );
    console.log(`[faults] a 10 MB message on ${Topics.flowsRaw} (max_payload ${varz.max_payload} B): ${tenMb}`);
    expect(
      found.filter((f) => f.letter === undefined).map((f) => `${f.poison.topic} ${f.poison.variant} → ${f.stage}`),
    ).toEqual([]);
    for (const f of found) expect(f.letter!.reason).not.toBe("");
    // NATS refuses what is over max_payload at publish: such a message never reaches a stage
    if (TEN_MB > varz.max_payload) expect(tenMb).toMatch(/refused.*(payload|size|large)/i);
  }, 240_000);
});
