// syn_retransmits: handshake retransmits in a flow window (the 1 s / 3 s connect delays users
// feel); the engine adds the conntrack hint when a node on the path is under pressure.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowText, type Finding } from "./Finding.js";

export const synRetransmits = (f: EnrichedFlow, threshold: bigint): Finding | undefined =>
  f.syn_retransmits > threshold
    ? { observed: Number(f.syn_retransmits), threshold: Number(threshold), baseline: null, unit: "segments" }
    : undefined;

export const synRetransmitsText = (f: EnrichedFlow, x: Finding): string =>
  `${x.observed} SYN retransmits (connect delays of 1 s and more) on ${flowText(f)}`;
