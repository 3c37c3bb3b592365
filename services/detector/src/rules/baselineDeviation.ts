// baseline_deviation: what PairBaselines reports for a window (RTT or retransmit rate well above
// the pair's learned baseline) as a finding; RTT in the flows' µs, the rate as a ratio.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import type { BaselineFinding } from "../engine/baseline/PairBaselines.js";
import { flowText, type Finding } from "./Finding.js";

/** The retransmit rate PairBaselines learns: retransmitted / sent segments (0 when none sent). */
export const retransRate = (f: EnrichedFlow): number =>
  f.segs_sent > 0n ? Number(f.retransmits) / Number(f.segs_sent) : 0;

export const baselineDeviation = (f: EnrichedFlow, b: BaselineFinding): Finding =>
  b.metric === "rtt"
    ? { observed: f.srtt_us, threshold: null, baseline: Math.round(b.baseline * 1000), unit: "us" }
    : { observed: b.observed, threshold: null, baseline: b.baseline, unit: "ratio" };

export const baselineDeviationText = (f: EnrichedFlow, b: BaselineFinding): string =>
  b.metric === "rtt"
    ? `RTT ${b.observed.toFixed(1)} ms against a baseline of ${b.baseline.toFixed(1)} ms (z ${b.score.toFixed(1)}) on ${flowText(f)}`
    : `retransmit rate ${(b.observed * 100).toFixed(1)} % against a baseline of ${(b.baseline * 100).toFixed(1)} % (z ${b.score.toFixed(1)}) on ${flowText(f)}`;
