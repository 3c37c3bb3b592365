// policy_denied: observed traffic that the NetworkPolicies in force deny (an enforcement gap, or a
// CNI that does not enforce). The details (deciding policies, direction, nearest rule) come from
// engine/policyFindings.ts, for an opening only.
import type { Verdict } from "@netpulse/policy/model";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowText, type Finding, type FindingText } from "./Finding.js";

const DENIED: Finding = { observed: 1, threshold: null, baseline: null, unit: "count" };

export const policyDenied = (v: Verdict): Finding | undefined => (v.allowed ? undefined : DENIED);

export const policyDeniedText = (
  f: EnrichedFlow,
  d: { readonly direction: string; readonly policies: string; readonly nearRule: string },
): FindingText => ({
  message: `${flowText(f)}/${f.protocol} observed but denied (${d.direction}) by ${d.policies}`,
  causeHint: d.nearRule === "" ? "" : `nearest rule: ${d.nearRule}`,
  policy: { verdict: "denied", name: d.policies, rule: d.nearRule, direction: d.direction },
});
