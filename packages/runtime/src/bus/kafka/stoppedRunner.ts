// kafkajs 2.2.4, its last release, can stop a process's event loop for good when a consumer stops
// while its fetch manager is rebalancing (a broker left the cluster, so the set of brokers to fetch
// from changed). The fetch manager stops its fetchers and, once they have ended, starts new ones;
// if Runner.stop() ran in that moment (the consumer restarting after a crash, or closing), the new
// fetchers call Runner.fetch, which answers [] at once for a stopped runner, and they call it again
// in a loop that never waits: only promise callbacks run from then on, no timer or socket. Seen in
// CI as a 74-minute silence right after the cluster contract test killed a broker
// (test/clusters/). Here a stopped runner's fetch fails instead: the fetcher ends, and the runner's
// retrier, finding the runner stopped, lets the consume loop end as it does after a normal stop.
import { createRequire } from "node:module";

interface RunnerInternals {
  running: boolean;
  fetch: (this: RunnerInternals, nodeId: number) => Promise<unknown[]>;
}

const GUARDED = Symbol.for("netpulse.kafkajs.stoppedRunnerGuard");

type RunnerClass = { prototype: RunnerInternals } & Record<symbol, unknown>;

/** kafkajs's consumer Runner class: internal, not in its typings (packages/runtime/test/kafka-stopped-runner.test.ts pins the version). */
export const kafkajsRunner = (): RunnerClass =>
  createRequire(import.meta.url)("kafkajs/src/consumer/runner.js") as RunnerClass;

/** Makes a stopped runner's fetch fail instead of answering []; idempotent. */
export const guardStoppedRunner = (): void => {
  const Runner = kafkajsRunner();
  if (Runner[GUARDED] === true) return;
  Runner[GUARDED] = true;
  const fetch = Runner.prototype.fetch;
  Runner.prototype.fetch = function (nodeId) {
    if (!this.running) return Promise.reject(new Error("kafkajs consumer stopped: this fetcher ends"));
    return fetch.call(this, nodeId);
  };
};
