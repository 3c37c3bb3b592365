// The chain through the loss of one cluster node: a synthetic capture (test/faults/support/
// capture.ts) publishes numbered raw flows through the real enricher → detector → sink into
// ClickHouse while the node that leads netpulse.flows.raw (the JetStream stream leader, or the
// Kafka broker leading most of its partitions) is killed -9 mid-stream and started again later.
// Every flow the cluster acked must arrive exactly once: count() = uniqExact(flow_id, start_ns) =
// sent, ids 1..sent, one rtt_high opening per slow window, and no duplicate at any moment the
// watch looked. What a node loss does to publish latency: the capture's longest wait for an ack
// around the kill (it publishes to the killed leader's partitions), and a probe that publishes one
// message every 100 ms to a topic of its own (whose leader may or may not be the killed node).
import * as Effect from "effect/Effect";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { streamName } from "@netpulse/runtime/bus/nats/names";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { SyntheticCapture } from "../../faults/support/capture.js";
import { expectExactlyOnce } from "../../faults/support/run.js";
import { DuplicateWatch, stored, type Stored } from "../../faults/support/store.js";
import { until } from "../../support/processes.js";
import { ClusterChain } from "./clusterChain.js";
import { LatencyProbe, Progress } from "./latency.js";
import { NODES, type LocalCluster } from "./localCluster.js";

export interface NodeLossTiming {
  /** How long the capture streams, ms. */
  readonly streamMs: number;
  /** When the leader is killed, ms into the stream. */
  readonly killAt: number;
  /** When the killed node is started again, ms into the stream (in the background; awaited after the stream). */
  readonly restartAt: number;
}

/** The node (1..3) that leads netpulse.flows.raw now. */
const leaderOf = async (cluster: LocalCluster): Promise<number> => {
  if (cluster.kind === "nats") {
    for (const port of cluster.monitorPorts) {
      const jsz = (await fetch(`http://127.0.0.1:${port}/jsz?accounts=true&streams=true`)
        .then((r) => r.json())
        .catch(() => undefined)) as
        | { account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string } }> }> }
        | undefined;
      const leader = jsz?.account_details
        ?.flatMap((a) => a.stream_detail ?? [])
        .find((s) => s.name === streamName(Topics.flowsRaw))?.cluster?.leader;
      if (leader !== undefined) return Number(leader.replace("nats-", ""));
    }
    throw new Error(`no node reports a leader for ${streamName(Topics.flowsRaw)}`);
  }
  const admin = new Kafka({ brokers: cluster.urls.split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [Topics.flowsRaw] });
    const leads = new Map<number, number>();
    for (const p of meta.topics[0]!.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
    const [node] = [...leads].sort((a, b) => b[1] - a[1])[0]!;
    if (!NODES.includes(node as 1 | 2 | 3)) throw new Error(`leader ${node} is not a node of the cluster`);
    return node;
  } finally {
    await admin.disconnect();
  }
};

/**
 * Registers the chain-under-node-loss test on `cluster()` (started by the file's beforeAll).
 * Prints what it checked and the counts.
 */
export const nodeLossSuite = (cluster: () => LocalCluster, timing: NodeLossTiming): void => {
  describe(`the chain on a 3-node cluster through the loss of one node`, () => {
    let chain: ClusterChain;
    let capture: SyntheticCapture;
    let watch: DuplicateWatch;
    let probe: LatencyProbe;
    const tag = () => `[clusters ${cluster().kind}]`;

    beforeAll(async () => {
      const t0 = Date.now();
      chain = new ClusterChain(cluster());
      await chain.up();
      await chain.runtime.runPromise(
        Effect.flatMap(Bus, (bus) => Effect.forEach(Object.values(TopicSpecs), (t) => bus.provision(t))),
      );
      capture = new SyntheticCapture(chain.runtime, chain.node);
      watch = new DuplicateWatch(chain, chain.node);
      watch.start();
      probe = new LatencyProbe(chain.runtime);
      await probe.start();
      console.log(
        `${tag()} chain up (enricher, detector, sink, ClickHouse) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    }, 240_000);

    afterAll(async () => {
      await capture?.stop();
      await probe?.stop();
      await watch?.stop();
      await chain?.down();
    }, 120_000);

    it(
      "kill -9 of the node leading netpulse.flows.raw mid-stream, started again later: every acked flow stored once",
      async () => {
        let killedAt = 0;
        let victim = 0;
        let restartMs = 0;
        let restarted: Promise<void> = Promise.resolve();
        const progress = new Progress();
        progress.start(capture);
        await capture.streamFor(timing.streamMs, [
          [
            timing.killAt,
            async () => {
              victim = await leaderOf(cluster());
              killedAt = Date.now();
              const pid = await cluster().kill9(victim);
              console.log(
                `${tag()} kill -9 of ${cluster().kind}-${victim} (pid ${pid}, the leader) after ${capture.sent} flows`,
              );
            },
          ],
          [
            timing.restartAt,
            () => {
              // in the background: the stream goes on while the node starts and catches up
              const t = Date.now();
              const from = capture.sent;
              restarted = cluster()
                .up()
                .then(() => {
                  restartMs = Date.now() - t;
                  console.log(
                    `${tag()} ${cluster().kind}-${victim} started again at ${from} flows, ready in ${restartMs} ms`,
                  );
                });
              return Promise.resolve();
            },
          ],
        ]);
        await restarted;
        progress.stop();
        let s: Stored | undefined;
        await until(
          `${capture.sent} flows and ${capture.slow} rtt_high openings in ClickHouse`,
          async () => {
            s = await stored(chain, chain.node);
            return s.rows >= capture.sent && s.rttOpened.length >= capture.slow;
          },
          120_000,
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}; stored ${JSON.stringify(s)}\n${chain.logs()}`);
        });
        // a late redelivery would show up now
        await new Promise((r) => setTimeout(r, 3_000));
        s = await stored(chain, chain.node);
        await probe.stop();
        const lat = probe.report(killedAt);
        console.log(
          `${tag()} sent ${capture.sent} flows (${capture.slow} slow, ${capture.publishFailures} publish retries);` +
            ` stored ${s.rows} rows, ${s.distinct} distinct, ids ${s.minId}..${s.maxId};` +
            ` anomalies ${s.anomalyRows} rows, ${s.anomalyDistinct} distinct (id, status), ${s.rttOpened.length} rtt_high opened;` +
            ` duplicates at worst ${JSON.stringify(watch.worst)}`,
        );
        console.log(
          `${tag()} probe publish ack: p50 ${lat.beforeP50} ms (max ${lat.beforeMax}) before the kill;` +
            ` in the 20 s after it p50 ${lat.afterP50} ms, max ${lat.afterMax} ms, ${lat.failedAfter} failed;` +
            ` first ack ${lat.stallMs} ms after the kill; node back in ${restartMs} ms;` +
            ` the capture (publishing to the killed leader's partitions) waited at most ${progress.stallAfter(killedAt)} ms for an ack`,
        );
        console.log(`${tag()} nodes at the end:\n${await cluster().status()}`);
        expectExactlyOnce({ chain, capture, watch }, s);
        expect(killedAt).toBeGreaterThan(0);
      },
      timing.streamMs + 240_000,
    );
  });
};
