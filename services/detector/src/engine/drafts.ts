// The anomaly records the engine opens: one builder for findings about a flow (its pair, its
// window, its flow id) and one for findings about a node (heartbeat figures). Called only for an episode's opening, so clarity beats allocation here.
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import { anomalyId } from "./anomalyId.js";
import type { AnomalyDraft } from "./Episodes.js";
import type { Finding, FindingText, PolicyValues } from "../rules/Finding.js";
import type { RuleConfig } from "../rules/RuleSet.js";

const NO_POLICY: PolicyValues = { verdict: "", name: "", rule: "", direction: "" };

export const flowDraft = (
  rule: RuleConfig,
  version: number,
  subject: string,
  flow: EnrichedFlow,
  detectedNs: bigint,
  x: Finding,
  t: FindingText,
  policy: PolicyValues = t.policy ?? NO_POLICY,
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
  threshold: x.threshold,
  baseline: x.baseline,
  observed: x.observed,
  sample_flow_ids: [flow.flow_id],
  cause_hint: t.causeHint,
  policy_verdict: policy.verdict,
  policy_name: policy.name,
  policy_rule: policy.rule,
  message: t.message,
  status: "open",
  count: 1,
  first_seen_ns: flow.start_ns,
  last_seen_ns: flow.end_ns,
  pair: subject,
  unit: x.unit,
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
  x: Finding,
  message: string,
  causeHint = "",
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
  threshold: x.threshold,
  baseline: x.baseline,
  observed: x.observed,
  sample_flow_ids: [],
  cause_hint: causeHint,
  policy_verdict: "",
  policy_name: "",
  policy_rule: "",
  message,
  status: "open",
  count: 1,
  first_seen_ns: startNs,
  last_seen_ns: endNs,
  pair: nodeSubject(node),
  unit: x.unit,
  policy_direction: "",
});
