// The per-flow rules: rtt_high, retransmits_high, syn_retransmits, baseline_deviation,
// policy_denied and policy_unprotected, each a small check over one enriched flow window under the
// flow's profile (base rules or the first matching override). The hot path: no allocation unless
// a rule fires, beyond the pair key the baselines need.
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import type { Anomaly, EnrichedFlow } from "@netpulse/runtime/records";
import type { CompiledProfile, CompiledRules } from "./CompiledRules.js";
import type { EngineState } from "./Engine.js";
import { flowDraft, flowText, ms, type FindingValues } from "./drafts.js";
import { conntrackHint } from "./NodeHealth.js";
import { endName, pairKeyOf } from "./pairKey.js";
import { denial } from "./policyFindings.js";
import { RULE_KINDS, type RuleConfig, type RuleKind } from "../rules/RuleSet.js";

const KIND_BIT = Object.fromEntries(RULE_KINDS.map((k, i) => [k, 1 << i])) as Record<RuleKind, number>;

export class FlowRules {
  constructor(private readonly s: EngineState) {}

  flow(f: EnrichedFlow, c: CompiledRules, policies: PolicyEngine | undefined, out: Anomaly[]): void {
    const s = this.s;
    if (f.end_ns > s.watermarkNs) s.watermarkNs = f.end_ns;
    const p = c.profileFor(f);
    let pair: string | undefined;
    let slow = false;
    const srtt = f.srtt_us;
    if (p.rttHigh !== undefined && srtt > p.rttThresholdUs) {
      slow = true;
      const th = p.rttThresholdUs;
      this.#fire(p.rttHigh, c, (pair ??= pairKeyOf(f)), f, out, true, () => ({
        observed: srtt,
        threshold: th,
        baseline: null,
        unit: "us",
        causeHint: "",
        message: `RTT ${ms(srtt)} over ${ms(th)} on ${flowText(f)}`,
      }));
    }
    if (p.retransHigh !== undefined && f.retransmits > p.retransThreshold) {
      const th = Number(p.retransThreshold);
      this.#fire(p.retransHigh, c, (pair ??= pairKeyOf(f)), f, out, false, () => ({
        observed: Number(f.retransmits),
        threshold: th,
        baseline: null,
        unit: "segments",
        causeHint: "",
        message: `${f.retransmits} retransmitted segments (more than ${th}) in one window on ${flowText(f)}`,
      }));
    }
    if (p.synRetrans !== undefined && f.syn_retransmits > p.synThreshold) {
      const th = Number(p.synThreshold);
      this.#fire(p.synRetrans, c, (pair ??= pairKeyOf(f)), f, out, false, () => ({
        observed: Number(f.syn_retransmits),
        threshold: th,
        baseline: null,
        unit: "segments",
        causeHint: this.#conntrackHint(f, c.base.profile.conntrack_pressure.params["ratio"] ?? 0.9),
        message: `${f.syn_retransmits} SYN retransmits (connect delays of 1 s and more) on ${flowText(f)}`,
      }));
    }
    if (p.baseline !== undefined && (srtt > 0 || f.segs_sent > 0n)) {
      const rate = f.segs_sent > 0n ? Number(f.retransmits) / Number(f.segs_sent) : 0;
      const found = s.baselines.observe((pair ??= pairKeyOf(f)), f.end_ns, srtt, rate);
      if (found !== undefined) {
        const rtt = found.metric === "rtt";
        if (rtt) slow = true;
        this.#fire(p.baseline, c, pair, f, out, rtt, () => ({
          observed: rtt ? srtt : found.observed,
          threshold: null,
          baseline: rtt ? Math.round(found.baseline * 1000) : found.baseline,
          unit: rtt ? "us" : "ratio",
          causeHint: "",
          message: rtt
            ? `RTT ${found.observed.toFixed(1)} ms against a baseline of ${found.baseline.toFixed(1)} ms (z ${found.score.toFixed(1)}) on ${flowText(f)}`
            : `retransmit rate ${(found.observed * 100).toFixed(1)} % against a baseline of ${(found.baseline * 100).toFixed(1)} % (z ${found.score.toFixed(1)}) on ${flowText(f)}`,
        }));
      }
    }
    if (c.anySlow) s.load.see(f.node, (pair ??= pairKeyOf(f)), f.end_ns, slow);
    if (policies !== undefined && (p.policyDenied !== undefined || p.policyUnprotected !== undefined))
      this.#policy(f, (pair ??= pairKeyOf(f)), p, c, policies, out);
  }

  /** Names the node in the hint of this step's slow openings where most of its pairs were slow. */
  annotateSlow(): void {
    const list = this.s.slowOpenings;
    for (const a of list) {
      const hint = this.s.load.hint(a.node);
      if (hint !== undefined) a.cause_hint = a.cause_hint === "" ? hint : `${a.cause_hint}; ${hint}`;
    }
    list.length = 0;
  }

  #fire(
    rule: RuleConfig,
    c: CompiledRules,
    subject: string,
    f: EnrichedFlow,
    out: Anomaly[],
    slow: boolean,
    values: () => FindingValues,
  ): void {
    const s = this.s;
    const dup = s.mirror.duplicate(
      f.src_ip,
      f.src_port,
      f.dst_ip,
      f.dst_port,
      f.direction,
      f.start_ns,
      f.end_ns,
      KIND_BIT[rule.kind],
    );
    const opened = s.episodes.report(
      `${rule.kind}\n${subject}`,
      f.start_ns,
      f.end_ns,
      f.flow_id,
      !dup,
      c.cooldownNs,
      out,
      () => flowDraft(rule, c.rules.version, subject, f, s.watermarkNs, values()),
    );
    if (opened !== undefined && slow) s.slowOpenings.push(opened);
  }

  /** The conntrack hint of the first node on the path (capturing node, then each end's) under pressure. */
  #conntrackHint(f: EnrichedFlow, ratio: number): string {
    for (const node of [f.node, f.src.node, f.dst.node]) {
      if (node === "") continue;
      const st = this.s.nodes.get(node);
      const hint = st === undefined ? undefined : conntrackHint(st, ratio);
      if (hint !== undefined) return hint;
    }
    return "";
  }

  #policy(
    f: EnrichedFlow,
    pair: string,
    p: CompiledProfile,
    c: CompiledRules,
    policies: PolicyEngine,
    out: Anomaly[],
  ): void {
    const v = this.s.verdicts.verdict(policies, f);
    if (v === undefined) return;
    if (!v.allowed) {
      if (p.policyDenied === undefined) return;
      const subject = `${pair}#${f.dst_port}`;
      // What decided it is worked out for an opening only: repeats just fold.
      this.#fire(p.policyDenied, c, subject, f, out, false, () => {
        const d = denial(policies, v, f);
        return {
          observed: 1,
          threshold: null,
          baseline: null,
          unit: "count",
          causeHint: d.nearRule === "" ? "" : `nearest rule: ${d.nearRule}`,
          message: `${flowText(f)}/${f.protocol} observed but denied (${d.direction}) by ${d.policies}`,
          policy: { verdict: "denied", name: d.policies, rule: d.nearRule, direction: d.direction },
        };
      });
      return;
    }
    if (
      p.policyUnprotected !== undefined &&
      v.ingress.verdict === "no-policy" &&
      v.dst.kind === "pod" &&
      !v.dst.hostNetwork
    ) {
      const subject = `${endName(f.dst, f.dst_ip)}#${f.dst_port}`;
      const dstRef = v.dst.ref;
      this.#fire(p.policyUnprotected, c, subject, f, out, false, () => ({
        observed: 1,
        threshold: null,
        baseline: null,
        unit: "count",
        causeHint: "",
        message: `${flowText(f)}/${f.protocol}: no NetworkPolicy isolates ${dstRef} for ingress`,
        policy: { verdict: "no-policy", name: "", rule: "", direction: "ingress" },
      }));
    }
  }
}
