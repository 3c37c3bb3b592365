// kafkajs's consumer Runner, the real class, stopped while its fetch manager rebalances (a broker
// left): without the guard (src/bus/kafka/stoppedRunner.ts) the fetchers started after the stop
// spin on promise callbacks and the event loop never runs again (the stall of a CI run, after the
// cluster contract test killed a broker); with it the consume loop ends as after a normal stop.
// The consumer group is a stand-in with two brokers whose fetches take 5 and 100 ms. It counts
// the fetch manager's calls of getNodeIds (once per fetch) and, past a limit, throws from it,
// which is what ends a spin here; a real consumer has nothing that would.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { guardStoppedRunner, kafkajsRunner } from "../src/bus/kafka/stoppedRunner.js";

const SPIN_LIMIT = 200_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Runner = { running: boolean; scheduleFetchManager(): void; stop(): Promise<void> };

/** Stops a runner in the middle of its fetch manager's rebalance; how often getNodeIds was asked, and what crashed. */
const stopDuringRebalance = async () => {
  let nodeIds = ["1", "2"];
  let asked = 0;
  const group = {
    groupId: "g",
    memberId: "m",
    getNodeIds: () => {
      if (++asked > SPIN_LIMIT) throw new Error("spinning");
      return nodeIds;
    },
    fetch: (nodeId: string) => new Promise<unknown[]>((r) => setTimeout(() => r([]), nodeId === "1" ? 5 : 100)),
    heartbeat: () => Promise.resolve(),
    leave: () => Promise.resolve(),
  };
  const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
  const crashes: unknown[] = [];
  const Runner = kafkajsRunner() as unknown as new (o: object) => Runner;
  const runner = new Runner({
    logger,
    consumerGroup: group,
    instrumentationEmitter: { emit() {} },
    concurrency: 1,
    eachBatch: () => Promise.resolve(),
    onCrash: (e: unknown) => crashes.push(e),
    retry: { retries: 3, initialRetryTime: 10 },
  });
  runner.running = true;
  runner.scheduleFetchManager();
  await sleep(1);
  nodeIds = ["1"]; // broker 2 left: fetcher 1's next fetch (at 5 ms) finds the change, the manager waits for fetcher 2
  await sleep(20);
  const stopped = Date.now();
  // Resolves once the runner stopped consuming: at once with the guard; without it, only when the
  // stand-in ends the spin.
  await runner.stop();
  return { asked, crashes, stopMs: Date.now() - stopped };
};

describe("kafkajs consumer stopped while its fetch manager rebalances", () => {
  it("is the kafkajs this guard was written against", () => {
    const version = (createRequire(import.meta.url)("kafkajs/package.json") as { version: string }).version;
    expect(version).toBe("2.2.4");
  });

  it("spins without the guard: fetchers started after the stop ask for work without ever waiting", async () => {
    const r = await stopDuringRebalance();
    console.log(`unguarded: getNodeIds asked ${r.asked} times, stop took ${r.stopMs} ms`);
    expect(r.asked).toBeGreaterThan(SPIN_LIMIT);
  });

  it("ends the consume loop with the guard: no spin, no crash", async () => {
    guardStoppedRunner();
    guardStoppedRunner(); // idempotent
    const r = await stopDuringRebalance();
    console.log(`guarded: getNodeIds asked ${r.asked} times, stop took ${r.stopMs} ms`);
    expect(r.asked).toBeLessThan(100);
    expect(r.crashes).toEqual([]);
  });
});
