// The anomaly records the engine opens: one builder for findings about a flow (its pair, its
// window, its flow id) and one for findings about a node (heartbeat figures). Called only when a
// rule fires, so clarity beats allocation here.
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import { anomalyId } from "./anomalyId.js";
import type { AnomalyDraft } from "./Episodes.js";
import { endName } from "./pairKey.js";
import type { RuleConfig } from "../rules/RuleSet.js";

export interface FindingValues {
  readonly observed: number;
  readonly threshold: number | null;
  readonly baseline: number | null;
  readonly unit: string;
  readonly causeHint: string;
  readonly message: string;
  /** Policy kinds: the verdict and what decided it. */
  readonly policy?: PolicyValues;
}

export interface PolicyValues {
  readonly verdict: string;
  readonly name: string;
  readonly rule: string;
  readonly direction: string;
}

const NO_POLICY: PolicyValues = { verdict: "", name: "", rule: "", direction: "" };

/** "shop/frontend → data/postgres:5432" */
export const flowText = (f: EnrichedFlow): string =>
  `${endName(f.src, f.src_ip)} → ${endName(f.dst, f.dst_ip)}:${f.dst_port}`;

export const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;

export const flowDraft = (
  rule: RuleConfig,
  version: number,
  subject: string,
  flow: EnrichedFlow,
  detectedNs: bigint,
  v: FindingValues,
  policy: PolicyValues = v.policy ?? NO_POLICY,
): AnomalyDraft => ({
  id: anomalyId(rule.id, version, subject, flow.start_ns),
  kind: rule.kind,
  severity: rule.severity,
  rule_id: rule.id,
  rule_version: version,
  detected_ns: detectedNs,
  window_start_ns: flow.start_ns,
  window_end_ns: flow.end_ns,
  node: flow.node,
  src_ip: flow.src_ip,
  dst_ip: flow.dst_ip,
  dst_port: flow.dst_port,
  src: flow.src,
  dst: flow.dst,
  threshold: v.threshold,
  baseline: v.baseline,
  observed: v.observed,
  sample_flow_ids: [flow.flow_id],
  cause_hint: v.causeHint,
  policy_verdict: policy.verdict,
  policy_name: policy.name,
  policy_rule: policy.rule,
  message: v.message,
  status: "open",
  count: 1,
  first_seen_ns: flow.start_ns,
  last_seen_ns: flow.end_ns,
  pair: subject,
  unit: v.unit,
  policy_direction: policy.direction,
});

export const nodeSubject = (node: string): string => `node:${node}`;

export const nodeDraft = (
  rule: RuleConfig,
  version: number,
  node: string,
  startNs: bigint,
  endNs: bigint,
  detectedNs: bigint,
  v: FindingValues,
): AnomalyDraft => ({
  id: anomalyId(rule.id, version, nodeSubject(node), startNs),
  kind: rule.kind,
  severity: rule.severity,
  rule_id: rule.id,
  rule_version: version,
  detected_ns: detectedNs,
  window_start_ns: startNs,
  window_end_ns: endNs,
  node,
  src_ip: "",
  dst_ip: "",
  dst_port: 0,
  src: emptyEndpoint,
  dst: emptyEndpoint,
  threshold: v.threshold,
  baseline: v.baseline,
  observed: v.observed,
  sample_flow_ids: [],
  cause_hint: v.causeHint,
  policy_verdict: "",
  policy_name: "",
  policy_rule: "",
  message: v.message,
  status: "open",
  count: 1,
  first_seen_ns: startNs,
  last_seen_ns: endNs,
  pair: nodeSubject(node),
  unit: v.unit,
  policy_direction: "",
});
