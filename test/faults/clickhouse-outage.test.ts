// ClickHouse stopped for 60 s under the whole chain (issue 19): the enricher, detector and sink
// run as processes on a nats-server of the run's own and write to a ClickHouse server of the run's
// own (support/chain.ts), so stopping it touches nothing else. The synthetic capture streams on
// and, while ClickHouse is away, publishes batches of 500 flows instead of 100 (2 500 flows/s,
// ~150 k flows in the outage): far more than the sink may hold. The sink keeps at most NETPULSE_SINK_MAX_IN_FLIGHT
// (160) messages per topic un-acked; the rest must wait on the broker. Checked:
//   - 0 lost, 0 duplicated once ClickHouse is back (support/run.ts), and the backlog drains;
//   - the backlog really waited on the broker: the sink's durable consumers on
//     netpulse.flows.enriched had more messages pending at the end of the outage than the cap;
//   - the sink's memory stays bounded meanwhile: VmRSS from /proc/<pid>/status sampled every
//     500 ms. The bound: the RSS it had before the outage plus 160 messages × 3 topics held at
//     the broker's max_payload (1 MiB) each — 480 MiB, a loose ceiling for the cap — and, the
//     sharper check, RSS over the last half of the outage no higher than over the first half
//     plus 64 MiB while the broker's backlog doubled (memory follows the cap, not the outage).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Topics } from "@netpulse/runtime/topics";
import { streamName } from "@netpulse/runtime/bus/nats/names";
import { BATCH } from "./support/capture.js";
import { FaultRun } from "./support/run.js";
import { stored } from "./support/store.js";

const OUTAGE_S = Number(process.env["NETPULSE_TEST_OUTAGE_S"] ?? 60);
const MAX_IN_FLIGHT = 160; // services/sink/src/SinkConfig.ts defaults.maxInFlight (the chain leaves it default)
const BURST = 500; // flows per batch (one every 200 ms) during the outage, 100 otherwise
const MiB = 1024 * 1024;

const run = new FaultRun({ bus: "nats" });
beforeAll(() => run.up(), 240_000);
afterAll(() => run.down(), 120_000);

const rssOf = (pid: number): { rss: number; hwm: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
};

/** Messages the sink's durables on netpulse.flows.enriched have not had acked (pending + in flight), from /jsz. */
const sinkBacklog = async (): Promise<number> => {
  const port = run.chain.services.env["NETPULSE_NATS_MONITOR_PORT"];
  const jsz = (await (await fetch(`http://127.0.0.1:${port}/jsz?consumers=true`)).json()) as {
    account_details?: Array<{
      stream_detail?: Array<{
        name: string;
        consumer_detail?: Array<{ name: string; num_pending: number; num_ack_pending: number }>;
      }>;
    }>;
  };
  const stream = streamName(Topics.flowsEnriched);
  return (jsz.account_details ?? [])
    .flatMap((a) => a.stream_detail ?? [])
    .filter((s) => s.name === stream)
    .flatMap((s) => s.consumer_detail ?? [])
    .filter((c) => c.name.startsWith("sink"))
    .reduce((n, c) => n + c.num_pending + c.num_ack_pending, 0);
};

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

describe("the whole chain with ClickHouse stopped", () => {
  it(`ClickHouse down ${OUTAGE_S} s: 0 lost, 0 duplicated, the backlog drains, the sink's memory bounded`, async () => {
    const { chain, capture } = run;
    const samples: Array<{ atMs: number; rss: number }> = [];
    let before = { rss: 0, hwm: 0 };
    let backlogMid = 0;
    let backlogEnd = 0;
    let sentAtUp = 0;
    let upAtMs = 0;
    const outageMs = OUTAGE_S * 1000;
    await capture.streamFor(10_000 + outageMs + 8_000, [
      [
        10_000,
        async () => {
          // steady state before: everything so far stored
          before = rssOf(chain.pid("sink"));
          console.log(
            `[faults nats] ClickHouse stopped after ${capture.sent} flows; sink RSS ${mib(before.rss)}` +
              ` (peak so far ${mib(before.hwm)}); the capture goes to ${BURST * 5} flows/s`,
          );
          await chain.server("down", "clickhouse");
          capture.batchSize = BURST;
          const t0 = Date.now();
          while (Date.now() - t0 < outageMs) {
            samples.push({ atMs: Date.now() - t0, ...rssOf(chain.pid("sink")) });
            if (backlogMid === 0 && Date.now() - t0 >= outageMs / 2) backlogMid = await sinkBacklog();
            await new Promise((r) => setTimeout(r, 500));
          }
          backlogEnd = await sinkBacklog();
          capture.batchSize = BATCH;
          sentAtUp = capture.sent;
          await chain.server("up", "clickhouse");
          upAtMs = Date.now();
          console.log(`[faults nats] ClickHouse started again after ${capture.sent} flows`);
        },
      ],
    ]);
    const s = await run.settled(`after ClickHouse was down ${OUTAGE_S} s`, 240_000);
    const drainedMs = Date.now() - upAtMs;
    run.expectExactlyOnce(s);

    const first = samples.filter((x) => x.atMs < outageMs / 2).map((x) => x.rss);
    const last = samples.filter((x) => x.atMs >= outageMs / 2).map((x) => x.rss);
    const peak = Math.max(...samples.map((x) => x.rss));
    const bound = before.rss + MAX_IN_FLIGHT * 3 * MiB;
    const storedAfter = (await stored(chain, chain.node)).rows;
    console.log(
      `[faults nats] outage: ${samples.length} RSS samples, first half max ${mib(Math.max(...first))},` +
        ` last half max ${mib(Math.max(...last))}, peak ${mib(peak)} (bound ${mib(bound)}: before + ${MAX_IN_FLIGHT} × 3 × 1 MiB);` +
        ` sink backlog on the broker ${backlogMid} messages mid-outage, ${backlogEnd} at its end` +
        ` (cap ${MAX_IN_FLIGHT} held by the sink); ${sentAtUp} flows sent by then; all ${storedAfter} stored` +
        ` ${(drainedMs / 1000).toFixed(1)} s after ClickHouse came back`,
    );
    // the outage really held back more than the sink may keep: the rest waited at the broker
    expect(backlogEnd).toBeGreaterThan(MAX_IN_FLIGHT);
    expect(backlogEnd).toBeGreaterThan(backlogMid);
    expect(peak).toBeLessThan(bound);
    expect(Math.max(...last)).toBeLessThan(Math.max(...first) + 64 * MiB);
  }, 420_000);
});
