// The per-flow rules under the flow's profile (base rules or the first matching override): each
// kind's check is a small pure function in rules/; this runs them over one enriched flow window,
// feeds the baselines and the node-wide tally, and turns what fires into episodes. The hot path:
// no allocation unless a rule fires, beyond the pair key the baselines need.
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import type { Anomaly, EnrichedFlow } from "@netpulse/runtime/records";
import type { CompiledProfile, CompiledRules } from "./CompiledRules.js";
import type { EngineState } from "./Engine.js";
import { flowDraft } from "./drafts.js";
import { endName, pairKeyOf } from "./pairKey.js";
import { denial } from "./policyFindings.js";
import { baselineDeviation, baselineDeviationText, retransRate } from "../rules/baselineDeviation.js";
import { conntrackHint } from "../rules/conntrackPressure.js";
import type { Finding, FindingText } from "../rules/Finding.js";
import { policyDenied, policyDeniedText } from "../rules/policyDenied.js";
import { policyUnprotected, policyUnprotectedText } from "../rules/policyUnprotected.js";
import { retransmitsHigh, retransmitsHighText } from "../rules/retransmitsHigh.js";
import { rttHigh, rttHighText } from "../rules/rttHigh.js";
import { RULE_KINDS, type RuleConfig, type RuleKind } from "../rules/RuleSet.js";
import { synRetransmits, synRetransmitsText } from "../rules/synRetransmits.js";

const KIND_BIT = Object.fromEntries(RULE_KINDS.map((k, i) => [k, 1 << i])) as Record<RuleKind, number>;

const plain = (message: string): FindingText => ({ message, causeHint: "" });

export class FlowRules {
  constructor(private readonly s: EngineState) {}

  flow(f: EnrichedFlow, c: CompiledRules, policies: PolicyEngine | undefined, out: Anomaly[]): void {
    const s = this.s;
    const w = s.clock.see(f.end_ns);
    if (w > s.watermarkNs) s.watermarkNs = w;
    const p = c.profileFor(f);
    let pair: string | undefined;
    let slow = false;
    let x: Finding | undefined;
    if (p.rttHigh !== undefined && (x = rttHigh(f, p.rttThresholdUs)) !== undefined) {
      slow = true;
      const found = x;
      this.#fire(p.rttHigh, c, (pair ??= pairKeyOf(f)), f, out, true, x, () => plain(rttHighText(f, found)));
    }
    if (p.retransHigh !== undefined && (x = retransmitsHigh(f, p.retransThreshold)) !== undefined) {
      const found = x;
      this.#fire(p.retransHigh, c, (pair ??= pairKeyOf(f)), f, out, false, x, () =>
        plain(retransmitsHighText(f, found)),
      );
    }
    if (p.synRetrans !== undefined && (x = synRetransmits(f, p.synThreshold)) !== undefined) {
      const found = x;
      const ratio = c.base.profile.conntrack_pressure.params["ratio"] ?? 0.9;
      this.#fire(p.synRetrans, c, (pair ??= pairKeyOf(f)), f, out, false, x, () => ({
        message: synRetransmitsText(f, found),
        causeHint: this.#conntrackHint(f, ratio),
      }));
    }
    if (p.baseline !== undefined && (f.srtt_us > 0 || f.segs_sent > 0n)) {
      const b = s.baselines.observe((pair ??= pairKeyOf(f)), f.end_ns, f.srtt_us, retransRate(f));
      if (b !== undefined) {
        const rtt = b.metric === "rtt";
        if (rtt) slow = true;
        this.#fire(p.baseline, c, pair, f, out, rtt, baselineDeviation(f, b), () => plain(baselineDeviationText(f, b)));
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
    x: Finding,
    text: () => FindingText,
  ): void {
    const s = this.s;
    const kindBit = KIND_BIT[rule.kind];
    // Only a connection whose two ends are both on cluster nodes can be reported twice.
    const twoSided = f.src.node !== "" && f.dst.node !== "";
    const dup =
      twoSided &&
      s.mirror.duplicate(f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.direction, f.start_ns, f.end_ns, kindBit);
    const opened = s.episodes.report(rule.kind, subject, f.start_ns, f.end_ns, f.flow_id, !dup, c.cooldownNs, out, () =>
      flowDraft(rule, c.rules.version, subject, f, s.watermarkNs, x, text()),
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
    let x: Finding | undefined;
    if (p.policyDenied !== undefined && (x = policyDenied(v)) !== undefined) {
      // What decided it is worked out for an opening only: repeats just fold.
      this.#fire(p.policyDenied, c, `${pair}#${f.dst_port}`, f, out, false, x, () =>
        policyDeniedText(f, denial(policies, v, f)),
      );
    } else if (p.policyUnprotected !== undefined && (x = policyUnprotected(v)) !== undefined) {
      const subject = `${endName(f.dst, f.dst_ip)}#${f.dst_port}`;
      this.#fire(p.policyUnprotected, c, subject, f, out, false, x, () => policyUnprotectedText(f, v));
    }
  }
}
