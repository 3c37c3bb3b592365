// rtt_high: a flow window's smoothed RTT over the threshold (0 = no RTT sample, never fires).
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowText, ms, type Finding } from "./Finding.js";

export const rttHigh = (f: EnrichedFlow, thresholdUs: number): Finding | undefined =>
  f.srtt_us > thresholdUs ? { observed: f.srtt_us, threshold: thresholdUs, baseline: null, unit: "us" } : undefined;

export const rttHighText = (f: EnrichedFlow, x: Finding): string =>
  `RTT ${ms(x.observed)} over ${ms(x.threshold ?? 0)} on ${flowText(f)}`;
