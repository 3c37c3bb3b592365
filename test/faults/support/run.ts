// One fault run: the chain (support/chain.ts), the synthetic capture feeding it and the watch for
// duplicates, with the checks every scenario ends on. After each fault ClickHouse must hold exactly
// the input — as many rows as flows sent and as many distinct (flow_id, start_ns), ids 1..sent —
// and every anomaly once: count() equal to uniqExact(id, status), one rtt_high opening per slow
// window sent, and no duplicate at any moment the watch looked.
import * as Effect from "effect/Effect";
import { expect } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { until } from "../../support/processes.js";
import { SyntheticCapture } from "./capture.js";
import { Chain, type ChainOptions, type ChainService } from "./chain.js";
import { DuplicateWatch, stored, type Stored } from "./store.js";

export const random = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo));

/**
 * The checks every scenario ends on (also the cluster tests' node loss): no service crashed, no
 * duplicate at any moment the watch looked, ids 1..sent each once, every anomaly once, one
 * rtt_high opening per slow window sent.
 */
export const expectExactlyOnce = (
  run: {
    readonly chain: { crashed(): ReadonlyArray<unknown> };
    readonly capture: SyntheticCapture;
    readonly watch: DuplicateWatch;
  },
  s: Stored,
): void => {
  const { chain, capture, watch } = run;
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

export class FaultRun {
  readonly chain: Chain;
  capture!: SyntheticCapture;
  watch!: DuplicateWatch;
  readonly startedMs = Date.now();

  constructor(options: ChainOptions) {
    this.chain = new Chain(options);
  }

  async up(): Promise<void> {
    const t = Date.now();
    await this.chain.up();
    await this.chain.runtime.runPromise(
      Effect.flatMap(Bus, (bus) => Effect.forEach(Object.values(TopicSpecs), (t) => bus.provision(t))),
    );
    this.capture = new SyntheticCapture(this.chain.runtime, this.chain.node);
    this.watch = new DuplicateWatch(this.chain, this.chain.node);
    this.watch.start();
    console.log(`[faults ${this.chain.bus}] the chain is up in ${Date.now() - t} ms`);
  }

  async down(): Promise<void> {
    const t = Date.now();
    await this.capture?.stop();
    await this.watch?.stop();
    const stopped = Date.now() - t;
    await this.chain.down();
    console.log(
      `[faults ${this.chain.bus}] the chain is down in ${Date.now() - t} ms (capture and watch ${stopped} ms)`,
    );
  }

  /** Until ClickHouse holds every flow sent and an opening per slow window, then a moment more for late repeats. */
  async settled(what: string, timeoutMs = 150_000): Promise<Stored> {
    const { chain, capture, watch } = this;
    let s: Stored | undefined;
    await until(
      `${what}: ${capture.sent} flows and ${capture.slow} rtt_high openings in ClickHouse`,
      async () => {
        s = await stored(chain, chain.node);
        return s.rows >= capture.sent && s.rttOpened.length >= capture.slow;
      },
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; stored ${JSON.stringify(s)}\n${chain.logs()}`);
    });
    // anything still in flight (a redelivery) would show up now
    await new Promise((r) => setTimeout(r, 3_000));
    s = await stored(chain, chain.node);
    console.log(
      `[faults ${chain.bus}] ${what}: sent ${capture.sent} flows (${capture.slow} slow, ${capture.resent} sent twice, ` +
        `${capture.publishFailures} publish retries);` +
        ` stored ${s.rows} rows, ${s.distinct} distinct, ids ${s.minId}..${s.maxId};` +
        ` anomalies ${s.anomalyRows} rows, ${s.anomalyDistinct} distinct (id, status), ${s.rttOpened.length} rtt_high opened;` +
        ` duplicates at worst ${JSON.stringify(watch.worst)}`,
    );
    return s;
  }

  expectExactlyOnce(s: Stored): void {
    expectExactlyOnce(this, s);
  }

  /** A hook for SyntheticCapture.streamFor: kill -9 of `s` while it drains a backlog, restarted at once. */
  killAndRestart(s: ChainService): () => Promise<void> {
    return async () => {
      const frozenMs = random(2_000, 4_000);
      const afterMs = random(20, 400);
      console.log(
        `[faults ${this.chain.bus}] kill -9 ${s} after ${this.capture.sent} flows, ${afterMs} ms into a ${frozenMs} ms backlog`,
      );
      await this.chain.kill9(s, frozenMs, afterMs);
      await this.chain.start(s);
    };
  }
}
