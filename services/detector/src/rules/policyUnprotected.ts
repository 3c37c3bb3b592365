// policy_unprotected (off by default): traffic into a pod that no ingress policy isolates.
import type { Verdict } from "@netpulse/policy/model";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowText, type Finding, type FindingText } from "./Finding.js";

const UNPROTECTED: Finding = { observed: 1, threshold: null, baseline: null, unit: "count" };

/** Allowed traffic whose destination is a (non-host-network) pod with no ingress policy. */
export const policyUnprotected = (v: Verdict): Finding | undefined =>
  v.allowed && v.ingress.verdict === "no-policy" && v.dst.kind === "pod" && !v.dst.hostNetwork
    ? UNPROTECTED
    : undefined;

export const policyUnprotectedText = (f: EnrichedFlow, v: Verdict): FindingText => ({
  message: `${flowText(f)}/${f.protocol}: no NetworkPolicy isolates ${v.dst.kind === "pod" ? v.dst.ref : f.dst_ip} for ingress`,
  causeHint: "",
  policy: { verdict: "no-policy", name: "", rule: "", direction: "ingress" },
});
