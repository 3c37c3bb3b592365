// What a rule returns when it fires: the figures the anomaly carries. The words (message, cause
// hint, policy details) are made separately and only for an episode's opening, since repeats
// just fold into the open episode.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { endName } from "../engine/pairKey.js";

export interface Finding {
  readonly observed: number;
  readonly threshold: number | null;
  readonly baseline: number | null;
  /** us | segments | ratio | count | s */
  readonly unit: string;
}

export interface PolicyValues {
  readonly verdict: string;
  readonly name: string;
  readonly rule: string;
  readonly direction: string;
}

export interface FindingText {
  readonly message: string;
  readonly causeHint: string;
  /** Policy kinds: the verdict and what decided it. */
  readonly policy?: PolicyValues;
}

/** "shop/frontend → data/postgres:5432" */
export const flowText = (f: EnrichedFlow): string =>
  `${endName(f.src, f.src_ip)} → ${endName(f.dst, f.dst_ip)}:${f.dst_port}`;

export const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
