// Per-flow windows in user space, in typed-array columns (≈151 B per tracked flow instead of
// ≈440 B for a Map of objects, bench/memory.bench.ts): kernel records add their deltas into the flow's window; a close
// record emits the final window, a tick emits the windows of flows that saw activity.
// Bounded: at `maxFlows` new flows are refused and counted (the caller reports the drop).
import type { RawFlow } from "@netpulse/runtime/records";
import type { KernelFlowRecord } from "./FlowRecordDecoder.js";
import { RecordKind } from "./FlowRecordLayout.js";
import { FlowColumns } from "./FlowColumns.js";
import { buildRawFlow, type Clock, type NodeIdentity, nodeIdentity } from "./rawFlow.js";

export interface FlowTableOptions {
  readonly node: string;
  readonly maxFlows: number;
  readonly initialCapacity?: number;
  /** Ticks without any record after which a flow is forgotten (default 60). */
  readonly maxIdleTicks?: number;
}

export class FlowTable {
  readonly cols: FlowColumns;
  /** Monotonic ns of the previous tick: windows start there (or at the flow's open). */
  private lastTickNs = 0;
  private readonly id: NodeIdentity;
  refused = 0;
  evicted = 0;

  constructor(
    readonly options: FlowTableOptions,
    private readonly clock: Clock,
  ) {
    this.cols = new FlowColumns(options.initialCapacity ?? 1024, options.maxFlows);
    this.id = nodeIdentity(options.node);
  }

  get size(): number {
    return this.cols.size;
  }

  /** Applies one kernel record; a close record pushes the flow's last window onto `out`. */
  apply(r: KernelFlowRecord, out: RawFlow[]): void {
    const c = this.cols;
    let s = c.find(r.flowId);
    if (s < 0) {
      s = c.insert(r.flowId);
      if (s < 0) {
        this.refused++;
        return;
      }
      c.setIdentity(s, r);
    }
    c.addRecord(s, r);
    if (r.kind === RecordKind.close) {
      out.push(buildRawFlow(c, s, this.id, this.clock, Math.max(this.lastTickNs, c.startNs[s] ?? 0), r.tsNs));
      c.remove(r.flowId, s);
    }
  }

  /** Emits and resets the window of every flow with activity since the last tick. */
  tick(nowMonoNs: number, out: RawFlow[]): void {
    const c = this.cols;
    const from = this.lastTickNs;
    this.evicted += c.sweep((s) => {
      out.push(buildRawFlow(c, s, this.id, this.clock, Math.max(from, c.startNs[s] ?? 0), nowMonoNs));
      c.resetWindow(s);
    }, this.options.maxIdleTicks ?? 60);
    this.lastTickNs = nowMonoNs;
  }
}
