// conntrack_pressure: a node's conntrack table at or above `ratio` full, or insert_failed / drop
// rising between two heartbeats. The same sentence is the cause hint of SYN-retransmit anomalies
// whose path crosses the node.
import type { Finding } from "./Finding.js";

/** The latest conntrack figures of a node (-1 = nf_conntrack not loaded). */
export interface ConntrackView {
  readonly node: string;
  readonly count: bigint;
  readonly max: bigint;
  /** Growth since the heartbeat before (0 when not rising or unknown). */
  readonly insertFailedRise: bigint;
  readonly dropRise: bigint;
}

/** count/max, or undefined when conntrack is not loaded or has no limit. */
export const conntrackRatio = (s: ConntrackView): number | undefined =>
  s.count >= 0n && s.max > 0n ? Number(s.count) / Number(s.max) : undefined;

export const conntrackPressure = (s: ConntrackView, ratio: number): Finding | undefined => {
  const r = conntrackRatio(s);
  if (r !== undefined && r >= ratio) return { observed: r, threshold: ratio, baseline: null, unit: "ratio" };
  const rise = s.insertFailedRise + s.dropRise;
  return rise > 0n ? { observed: Number(rise), threshold: 0, baseline: null, unit: "count" } : undefined;
};

/** The sentence naming the node and its figures, or undefined when it is not under pressure. */
export const conntrackHint = (s: ConntrackView, ratio: number): string | undefined => {
  const x = conntrackPressure(s, ratio);
  if (x === undefined) return undefined;
  return x.unit === "ratio"
    ? `conntrack table full on node ${s.node} (${s.count}/${s.max})`
    : `conntrack inserts failing on node ${s.node} (+${s.insertFailedRise} insert_failed, +${s.dropRise} drop; ${s.count}/${s.max})`;
};
