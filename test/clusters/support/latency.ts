// What a node loss does to publish latency, seen from the chain test (support/nodeLoss.ts): a
// probe that publishes one message every 100 ms to a topic of its own and times each ack, and a
// sampler of how many flows the synthetic capture has had acked, whose longest pause around the
// kill is the killed leader's cost to a publisher writing to it.
import * as Effect from "effect/Effect";
import type * as ManagedRuntime from "effect/ManagedRuntime";
import { Bus } from "@netpulse/runtime/bus/Bus";
import type { SyntheticCapture } from "../../faults/support/capture.js";
import { uniqueTopic } from "../../support/busHarness.js";

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** One message every 100 ms to a topic of its own and the ack time of each (a failed one is counted, not sent again). */
export class LatencyProbe {
  readonly samples: Array<{ at: number; ms: number; ok: boolean }> = [];
  readonly topic = uniqueTopic("cluster-probe");
  #stop = false;
  #running: Promise<void> | undefined;

  constructor(private readonly runtime: ManagedRuntime.ManagedRuntime<Bus, unknown>) {}

  async start(): Promise<void> {
    await this.runtime.runPromise(
      Effect.flatMap(Bus, (bus) => bus.provision({ topic: this.topic, partitions: 1, retentionMs: 600_000 })),
    );
    this.#running = (async () => {
      for (let i = 0; !this.#stop; i++) {
        const at = Date.now();
        const ok = await this.runtime
          .runPromise(
            Effect.flatMap(Bus, (bus) => bus.publish(this.topic, [{ key: "probe", value: Buffer.from(String(i)) }])),
          )
          .then(
            () => true,
            () => false,
          );
        this.samples.push({ at, ms: Date.now() - at, ok });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - at))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }

  /** Ack times before the kill, in the 20 s after it, and how long until the first ack after it. */
  report(killedAt: number) {
    const before = this.samples.filter((s) => s.at < killedAt && s.ok).map((s) => s.ms);
    const after = this.samples.filter((s) => s.at >= killedAt && s.at < killedAt + 20_000);
    const firstOk = after.find((s) => s.ok);
    return {
      beforeP50: quantile(before, 0.5),
      beforeMax: Math.max(...before),
      afterP50: quantile(
        after.filter((s) => s.ok).map((s) => s.ms),
        0.5,
      ),
      afterMax: Math.max(...after.map((s) => s.ms)),
      failedAfter: after.filter((s) => !s.ok).length,
      // from the kill to the first publish that was acked (the stall a publisher sees)
      stallMs: firstOk === undefined ? NaN : firstOk.at + firstOk.ms - killedAt,
    };
  }
}

/** Samples how many flows the capture has had acked, every 50 ms: its longest stall is the killed leader's cost. */
export class Progress {
  readonly samples: Array<{ at: number; sent: number }> = [];
  #timer: NodeJS.Timeout | undefined;

  start(capture: SyntheticCapture): void {
    this.#timer = setInterval(() => this.samples.push({ at: Date.now(), sent: capture.sent }), 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The longest time without a newly acked batch that began within 2 s of the kill, ms. */
  stallAfter(killedAt: number): number {
    let longest = 0;
    let since = this.samples[0]?.at ?? 0;
    let last = -1;
    for (const { at, sent } of this.samples) {
      if (sent !== last) {
        if (since >= killedAt - 2_000 && since <= killedAt + 2_000) longest = Math.max(longest, at - since);
        since = at;
        last = sent;
      }
    }
    return longest;
  }
}
