// The e2e bench's synthetic capture: the detector bench's traffic (services/detector/bench/
// detectorTraffic.ts: 10 000 workload pairs over its 5 000-pod cluster, ~1 % of flows anomalous)
// as the raw flows a capture would see (the same flows without the enricher's endpoints),
// published to netpulse.flows.raw through the capture service's own publisher (BusSink.ts: one
// message per partition of each FLOW_BATCH_SIZE batch, keyed by the sorted IP pair).
import * as Effect from "effect/Effect";
import type * as ManagedRuntime from "effect/ManagedRuntime";
import { Bus } from "@netpulse/runtime/bus/Bus";
import type { RawFlow } from "@netpulse/runtime/records";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { makeFlowPublisher } from "../../services/capture/src/BusSink.js";
import { FLOW_BATCH_SIZE } from "../../services/capture/src/CaptureService.js";
import { clusterObjects, policyEngineOf } from "../../services/detector/bench/detectorCluster.js";
import { Traffic } from "../../services/detector/bench/detectorTraffic.js";

export const PAIRS = 10_000;

export class RawInput {
  readonly objects = clusterObjects();
  readonly traffic = new Traffic(policyEngineOf(this.objects), PAIRS);

  /** The i-th flow as the capture publishes it: no endpoints (flow_id = i + 1). */
  raw(i: number): RawFlow {
    const { src: _src, dst: _dst, ...raw } = this.traffic.flow(i);
    return raw;
  }

  /**
   * Publishes flows [first, first + count) in capture-sized batches, a few in flight at a time
   * (generated a chunk at a time, never all at once); resolves once the broker stored them all.
   */
  publish(runtime: ManagedRuntime.ManagedRuntime<Bus, unknown>, first: number, count: number): Promise<void> {
    const raw = (i: number) => this.raw(i);
    return runtime.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(TopicSpecs.flowsRaw);
        const publish = yield* makeFlowPublisher("bench/e2e-capture");
        const batches = Math.ceil(count / FLOW_BATCH_SIZE);
        yield* Effect.forEach(
          Array.from({ length: batches }, (_, b) => b),
          (b) => {
            const from = first + b * FLOW_BATCH_SIZE;
            const n = Math.min(FLOW_BATCH_SIZE, first + count - from);
            return publish(Array.from({ length: n }, (_, j) => raw(from + j)));
          },
          { concurrency: 4, discard: true },
        );
      }),
    );
  }
}
