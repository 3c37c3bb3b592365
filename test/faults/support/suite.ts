// The whole chain under faults (issue 19), one code path for either bus: a synthetic capture
// publishes numbered raw flows (flow_id = sequence number, a node of the run's own, a slow window
// now and then) to netpulse.flows.raw on a broker of the run's own (a nats-server, or a Kafka
// broker); the real enricher, detector and sink run as processes from their entry points and
// write into a ClickHouse server of the run's own. After each fault ClickHouse must hold exactly
// the input and every anomaly once (support/run.ts); the replayed rtt_high ids must be the ones
// `netpulse replay` computes from the enriched topic. The scenarios share one chain and run in
// order, each checking everything sent since the start:
//   1. kill -9 of the enricher, then the detector, then the sink, each at a random moment while
//      it drains a backlog (frozen a few seconds first, so the kill finds work in flight), each
//      restarted at once;
//      then the capture's publisher "killed" before it saw its last acks: the synthetic capture
//      sends its last batches again, as a restarted one would (same records, new messages);
//   2. the broker stopped and started again mid-stream (its JetStream store / log segments kept);
//   3. poison on every topic the chain reads (random bytes, truncated Avro, an unknown schema
//      fingerprint, the largest message the broker takes, and one of 10 MB): each lands on
//      netpulse.dlq, from every stage that reads the topic, with the stage and a reason, while the
//      stream goes on. nats-server refuses the 10 MB message at publish (max_payload, 1 MiB by
//      default); the Kafka topics take up to 32 MiB, so there it is a poison like the others.
import { spawnSync } from "node:child_process";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { MAX_MESSAGE_BYTES } from "@netpulse/runtime/bus/kafka/topics";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import type { Anomaly } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { until } from "../../support/processes.js";
import type { ChainBus } from "./chain.js";
import { consumers, deadLettersSince, goodSamples, largestPoison, match, poisons, TEN_MB } from "./poison.js";
import { FaultRun, random } from "./run.js";
import { sql, stored } from "./store.js";

const brokerName = { nats: "nats-server", kafka: "Kafka broker" } as const;
/**
 * Where the search for the largest message a broker takes starts: 16 bytes under NATS
 * max_payload; on Kafka the limit is on the whole record batch (its ~60-byte header, the record's
 * key and headers), so nothing within 64 bytes of it fits, and each refused 32 MiB try costs the
 * producer's retries.
 */
const firstSlack = { nats: 16, kafka: 128 } as const;

export const faultSuite = (bus: ChainBus): void => {
  const run = new FaultRun({ bus });
  const tag = `[faults ${bus}]`;

  beforeAll(() => run.up(), 240_000);
  afterAll(() => run.down(), 120_000);

  describe(`the whole chain under faults, on ${bus}`, () => {
    it("kill -9 of enricher, detector and sink mid-stream, restarted; the capture re-sending: 0 lost, 0 duplicated", async () => {
      const { capture } = run;
      await capture.streamFor(36_000, [
        [random(2_000, 7_000), run.killAndRestart("enricher")],
        [random(13_000, 18_000), run.killAndRestart("detector")],
        [random(24_000, 29_000), run.killAndRestart("sink")],
        [
          random(31_000, 34_000),
          async () => {
            console.log(
              `${tag} the capture's publisher "restarts" after ${capture.sent} flows: its last 5 batches again`,
            );
            await capture.resendLast(5);
          },
        ],
      ]);
      run.expectExactlyOnce(await run.settled("after kill -9 of each service"));
    }, 300_000);

    it(`${brokerName[bus]} restarted mid-stream: 0 lost, 0 duplicated`, async () => {
      const before = run.capture.sent;
      let backAt = 0;
      await run.capture.streamFor(16_000, [
        [
          random(3_000, 8_000),
          async () => {
            console.log(`${tag} ${brokerName[bus]} restart after ${run.capture.sent} flows`);
            const t = Date.now();
            await run.chain.restartBroker(3_000);
            backAt = run.capture.sent;
            console.log(`${tag} ${brokerName[bus]} back after ${Date.now() - t} ms, ${backAt} flows sent by then`);
            // the stream goes on a while on the restarted broker
            await new Promise((r) => setTimeout(r, 6_000));
          },
        ],
      ]);
      const s = await run.settled(`after the ${brokerName[bus]} restart`);
      run.expectExactlyOnce(s);
      // the stream really went through the restart: flows before it, and flows after it
      expect(backAt).toBeGreaterThan(before);
      expect(run.capture.sent).toBeGreaterThan(backAt);
    }, 300_000);

    it("the rtt_high openings are the ids `netpulse replay` computes from the enriched topic", async () => {
      const { chain } = run;
      const r = spawnSync(
        "node_modules/.bin/tsx",
        [
          "--tsconfig",
          "tsconfig.eslint.json",
          "packages/cli/src/main.ts",
          "replay",
          "--from",
          new Date(run.startedMs - 60_000).toISOString(),
          "--to",
          new Date().toISOString(),
          "--bus",
          bus,
          "--rules",
          chain.files.rules,
          "--manifests",
          chain.files.manifests,
        ],
        { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...chain.env } },
      );
      expect(r.status, r.stderr).toBe(0);
      const opened = r.stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Anomaly)
        .filter((a) => a.kind === "rtt_high" && (a.status ?? "open") === "open");
      // An id may open twice in a replay: a flow the capture re-sent after its episode resolved
      // opens the same episode (same pair, same start: same id) again, byte for byte what the live
      // detector published for it, and one row in ClickHouse. The ids are what must agree.
      const replayed = [...new Set(opened.map((a) => a.id))].sort();
      const s = await stored(chain, chain.node);
      console.log(
        `${tag} netpulse replay: ${replayed.length} rtt_high episodes opened (${opened.length} opening records); ` +
          `ClickHouse: ${s.rttOpened.length}`,
      );
      // which, when they differ: the replay's own records and what ClickHouse holds of the same pairs
      const odd = opened.filter((a) => !s.rttOpened.includes(a.id));
      for (const a of odd)
        console.log(
          `${tag} only in the replay: ${JSON.stringify(a, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`,
        );
      if (odd.length > 0)
        console.log(
          `${tag} ClickHouse for those pairs: ${JSON.stringify(
            await sql(
              chain,
              `SELECT id, status, src_ip, window_start_ns, first_seen_ns, count FROM anomalies
               WHERE kind = 'rtt_high' AND src_ip IN (${odd.map((a) => `'${a.src_ip}'`).join(",")})`,
            ),
          )}`,
        );
      expect(replayed).toHaveLength(run.capture.slow);
      expect(s.rttOpened).toEqual(replayed);
    }, 180_000);

    it("poison on every topic the chain reads goes to netpulse.dlq with stage and reason; the rest is delivered", async () => {
      const { chain, capture } = run;
      const fromMs = Date.now() - 1_000;
      const first = (topic: string) =>
        chain.runtime.runPromise(
          Effect.flatMap(Bus, (b) =>
            b.replay(topic, { _tag: "Time", fromMs: run.startedMs - 60_000 }).pipe(
              Stream.filter((m) => topic !== Topics.anomalies || AnomalyCodec.decodeBatch(m.value)._tag === "Right"),
              Stream.take(1),
              Stream.runCollect,
            ),
          ),
        );
      const [enriched] = await first(Topics.flowsEnriched);
      const [anomaly] = await first(Topics.anomalies);
      // the broker's limit: NATS max_payload (server-wide), the Kafka topics' max.message.bytes
      const maxPayload =
        bus === "nats"
          ? (
              (await (
                await fetch(`http://127.0.0.1:${chain.services.env["NETPULSE_NATS_MONITOR_PORT"]}/varz`)
              ).json()) as { max_payload: number }
            ).max_payload
          : MAX_MESSAGE_BYTES;
      const ps = poisons(goodSamples(chain.node, { enriched: enriched!.value, anomaly: anomaly!.value }));
      let tenMb = "";
      await capture.streamFor(12_000, [
        [
          2_000,
          async () => {
            await chain.runtime.runPromise(
              Effect.flatMap(Bus, (b) =>
                Effect.forEach(ps, (p) =>
                  b.publish(p.topic, [{ key: `poison-${p.variant}`, value: p.value, partition: 0 }]),
                ),
              ),
            );
            // found here: its dead letter was over max_payload and the stage retried it forever
            for (const [t, topic] of Object.keys(consumers).entries())
              ps.push(await chain.runtime.runPromise(largestPoison(topic, maxPayload, t, firstSlack[bus])));
            // the broker's own limit decides whether a 10 MB message exists at all
            const value = Buffer.alloc(TEN_MB, 7);
            tenMb = await chain.runtime
              .runPromise(
                Effect.flatMap(Bus, (b) => b.publish(Topics.flowsRaw, [{ key: "poison-10mb", value, partition: 0 }])),
              )
              .then(
                () => "accepted",
                (e: unknown) => `refused: ${String(e)}`,
              );
            // taken, it is a poison message like the others: the enricher must dead-letter it
            if (tenMb === "accepted") ps.push({ topic: Topics.flowsRaw, variant: "10 MB", value });
          },
        ],
      ]);
      run.expectExactlyOnce(await run.settled("after poison on every topic"));

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
          `${tag} ${f.poison.topic} ${f.poison.variant} (${f.poison.value.length} B) → ${f.stage}: ` +
            (f.letter === undefined ? "MISSING" : `${f.letter.error_kind}: ${f.letter.reason}`),
        );
      console.log(`${tag} a 10 MB message on ${Topics.flowsRaw} (broker limit ${maxPayload} B): ${tenMb}`);
      expect(
        found.filter((f) => f.letter === undefined).map((f) => `${f.poison.topic} ${f.poison.variant} → ${f.stage}`),
      ).toEqual([]);
      for (const f of found) expect(f.letter!.reason).not.toBe("");
      // what is over the broker's limit is refused at publish: such a message never reaches a stage
      if (TEN_MB > maxPayload) expect(tenMb).toMatch(/refused.*(payload|size|large)/i);
      else expect(tenMb).toBe("accepted");
    }, 300_000);
  });
};
