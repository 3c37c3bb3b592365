// retransmits_high: more than N retransmitted segments in one flow window.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowText, type Finding } from "./Finding.js";

export const retransmitsHigh = (f: EnrichedFlow, threshold: bigint): Finding | undefined =>
  f.retransmits > threshold
    ? { observed: Number(f.retransmits), threshold: Number(threshold), baseline: null, unit: "segments" }
    : undefined;

export const retransmitsHighText = (f: EnrichedFlow, x: Finding): string =>
  `${x.observed} retransmitted segments (more than ${x.threshold}) in one window on ${flowText(f)}`;
