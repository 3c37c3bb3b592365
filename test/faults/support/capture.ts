// A synthetic capture for the fault suite: numbered raw flows (flow_id = sequence number, from 1)
// of one node, published to netpulse.flows.raw in batches keyed and partitioned as the capture
// does (sorted IP pair). Event time follows the wall clock. In every SLOW_EVERY-th batch the last
// flow is a slow window (srtt over the rtt_high threshold) of a pair of its own that has no other
// flow, so each slow window opens exactly one rtt_high episode, whatever redelivery or restart
// happens later (a restarted detector has lost its episodes: a pair slow twice could open twice).
// A batch that fails to publish (broker away) is retried until it is stored: publish is
// at-least-once, so a retry after a lost reply may store it twice, which the chain must absorb.
// `resendLast` is what a capture publisher killed before it saw its last acks does once restarted:
// the same records again, in new messages.
import * as Effect from "effect/Effect";
import type * as ManagedRuntime from "effect/ManagedRuntime";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { groupByPartition } from "@netpulse/runtime/bus/partitionGroups";
import { RawFlowCodec } from "@netpulse/runtime/codec/codecs";
import { flowKey } from "@netpulse/runtime/flowKey";
import type { RawFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { rawFlow } from "../../support/rawFlow.js";
import { clientIp, DB_IP, PAIRS, SLOW_PAIRS } from "./cluster.js";

export const BATCH = 100;
export const INTERVAL_MS = 200;
const SLOW_EVERY = 10;
const SLOW_SRTT_US = 250_000;

export class SyntheticCapture {
  /** Flows published so far (flow ids 1..sent). */
  sent = 0;
  /** Slow windows published so far, each on a pair of its own. */
  slow = 0;
  publishFailures = 0;
  resent = 0;
  /** Flows per batch, one batch per INTERVAL_MS (BATCH: 500 flows/s); raised for a burst. */
  batchSize = BATCH;
  #batches = 0;
  readonly #recent: RawFlow[][] = [];
  #running: Promise<void> | undefined;
  #stop = false;

  constructor(
    private readonly runtime: ManagedRuntime.ManagedRuntime<Bus, unknown>,
    readonly node: string,
  ) {}

  #batch(): RawFlow[] {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const size = this.batchSize;
    const slowAt = this.#batches % SLOW_EVERY === SLOW_EVERY - 1 && this.slow < SLOW_PAIRS ? size - 1 : -1;
    return Array.from({ length: size }, (_, j): RawFlow => {
      const id = this.sent + j + 1;
      const slow = j === slowAt;
      const k = slow ? PAIRS + this.slow : id % PAIRS;
      return rawFlow({
        flow_id: BigInt(id),
        node: this.node,
        start_ns: nowNs - 1_000_000_000n,
        end_ns: nowNs,
        src_ip: clientIp(k),
        src_port: 20_000 + (id % 40_000),
        dst_ip: DB_IP,
        dst_port: 5432,
        direction: "client",
        retransmits: 0n,
        srtt_us: slow ? SLOW_SRTT_US : 1_500 + (id % 500),
        min_rtt_us: 400,
        max_rtt_us: slow ? SLOW_SRTT_US + 10_000 : 3_000,
      });
    });
  }

  #publish(flows: ReadonlyArray<RawFlow>, sequence: bigint) {
    return Effect.gen(function* () {
      const bus = yield* Bus;
      const n = yield* bus.partitions(Topics.flowsRaw);
      const groups = groupByPartition(flows, (f) => flowKey(f.src_ip, f.dst_ip), n);
      yield* bus.publish(
        Topics.flowsRaw,
        [...groups].map(([partition, group]) => ({
          key: flowKey(group[0]!.src_ip, group[0]!.dst_ip),
          partition,
          value: RawFlowCodec.encodeBatch(group, { producer: "capture/faults", sequence }),
        })),
      );
    });
  }

  /** Publishes until the broker stores it. */
  async #stored(flows: ReadonlyArray<RawFlow>, sequence: bigint): Promise<void> {
    for (;;) {
      const ok = await this.runtime.runPromise(this.#publish(flows, sequence)).then(
        () => true,
        () => false,
      );
      if (ok) return;
      this.publishFailures++;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Publishes one new batch. */
  async publishOne(): Promise<void> {
    const flows = this.#batch();
    await this.#stored(flows, BigInt(this.#batches));
    this.#recent.push(flows);
    if (this.#recent.length > 20) this.#recent.shift();
    if (flows.some((f) => f.srtt_us === SLOW_SRTT_US)) this.slow++;
    this.sent += flows.length;
    this.#batches++;
  }

  /** The last `n` batches once more, each under a new sequence number (flows already sent: none new). */
  async resendLast(n: number): Promise<void> {
    for (const flows of this.#recent.slice(-n)) {
      await this.#stored(flows, BigInt(this.#batches++));
      this.resent += flows.length;
    }
  }

  start(): void {
    this.#stop = false;
    this.#running = (async () => {
      while (!this.#stop) {
        const t = Date.now();
        await this.publishOne();
        await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_MS - (Date.now() - t))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }

  /** Streams for `ms`, calling `at` hooks (ms from now) along the way; returns when the hooks and the time are done. */
  async streamFor(ms: number, hooks: ReadonlyArray<readonly [number, () => Promise<void>]> = []): Promise<void> {
    const t0 = Date.now();
    this.start();
    for (const [at, hook] of [...hooks].sort((a, b) => a[0] - b[0])) {
      await new Promise((r) => setTimeout(r, Math.max(0, at - (Date.now() - t0))));
      await hook();
    }
    await new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - t0))));
    await this.stop();
  }
}
