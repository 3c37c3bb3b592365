// Per-node state from heartbeats: when each node was last heard of (capture_silent, one episode
// per silence, resolved by the next heartbeat) and its latest conntrack figures and their growth
// (conntrack_pressure, and the cause hint of SYN-retransmit anomalies).
import type { Heartbeat } from "@netpulse/runtime/records";
import type { AnomalyDraft } from "./Episodes.js";
import type { ConntrackView } from "../rules/conntrackPressure.js";

export interface NodeState extends ConntrackView {
  readonly node: string;
  lastBeatNs: bigint;
  count: bigint;
  max: bigint;
  insertFailed: bigint;
  drop: bigint;
  /** Growth of insert_failed / drop at the latest heartbeat (0 when not rising or unknown). */
  insertFailedRise: bigint;
  dropRise: bigint;
  /** The opening of the silence in progress (its resolution repeats the id), if the node is silent. */
  silence: AnomalyDraft | undefined;
}

const rise = (prev: bigint, next: bigint): bigint => (prev >= 0n && next > prev ? next - prev : 0n);

export class NodeHealth {
  readonly #nodes = new Map<string, NodeState>();

  get size(): number {
    return this.#nodes.size;
  }

  get(node: string): NodeState | undefined {
    return this.#nodes.get(node);
  }

  nodes(): IterableIterator<NodeState> {
    return this.#nodes.values();
  }

  /** Folds one heartbeat in; returns the node's state (and whether the beat is newer than any before). */
  beat(b: Heartbeat): { readonly state: NodeState; readonly fresh: boolean } {
    let s = this.#nodes.get(b.node);
    if (s === undefined) {
      s = {
        node: b.node,
        lastBeatNs: b.ts_ns,
        count: b.conntrack_count,
        max: b.conntrack_max,
        insertFailed: b.conntrack_insert_failed,
        drop: b.conntrack_drop,
        insertFailedRise: 0n,
        dropRise: 0n,
        silence: undefined,
      };
      this.#nodes.set(b.node, s);
      return { state: s, fresh: true };
    }
    if (b.ts_ns <= s.lastBeatNs) return { state: s, fresh: false };
    s.insertFailedRise = rise(s.insertFailed, b.conntrack_insert_failed);
    s.dropRise = rise(s.drop, b.conntrack_drop);
    s.lastBeatNs = b.ts_ns;
    s.count = b.conntrack_count;
    s.max = b.conntrack_max;
    s.insertFailed = b.conntrack_insert_failed;
    s.drop = b.conntrack_drop;
    return { state: s, fresh: true };
  }
}
