// A RuleSet turned into what the per-flow path reads without lookups: thresholds in the flows'
// units (µs, bigint counters), the override table, and which per-flow work any profile needs.
// Built once per RuleSet (the engine keeps the last one) and never mutated.
import type { EnrichedFlow } from "@netpulse/runtime/records";
import type { Profile, RuleConfig, RuleSet } from "../rules/RuleSet.js";

export interface CompiledProfile {
  readonly profile: Profile;
  readonly rttHigh: RuleConfig | undefined;
  readonly rttThresholdUs: number;
  readonly retransHigh: RuleConfig | undefined;
  readonly retransThreshold: bigint;
  readonly synRetrans: RuleConfig | undefined;
  readonly synThreshold: bigint;
  readonly baseline: RuleConfig | undefined;
  readonly policyDenied: RuleConfig | undefined;
  readonly policyUnprotected: RuleConfig | undefined;
}

interface CompiledOverride {
  readonly namespace: string | undefined;
  readonly workload: string | undefined;
  readonly compiled: CompiledProfile;
}

const on = (r: RuleConfig): RuleConfig | undefined => (r.enabled ? r : undefined);
const param = (r: RuleConfig, name: string): number => r.params[name] ?? 0;

const compileProfile = (p: Profile): CompiledProfile => ({
  profile: p,
  rttHigh: on(p.rtt_high),
  rttThresholdUs: param(p.rtt_high, "threshold_ms") * 1000,
  retransHigh: on(p.retransmits_high),
  retransThreshold: BigInt(Math.floor(param(p.retransmits_high, "threshold"))),
  synRetrans: on(p.syn_retransmits),
  synThreshold: BigInt(Math.floor(param(p.syn_retransmits, "threshold"))),
  baseline: on(p.baseline_deviation),
  policyDenied: on(p.policy_denied),
  policyUnprotected: on(p.policy_unprotected),
});

/** An end matches when every key the override gives equals that end's (workload: owner, else pod). */
const endMatches = (o: CompiledOverride, ns: string, workload: string, pod: string): boolean =>
  (o.namespace === undefined || o.namespace === ns) &&
  (o.workload === undefined || o.workload === (workload !== "" ? workload : pod));

export class CompiledRules {
  readonly base: CompiledProfile;
  readonly overrides: ReadonlyArray<CompiledOverride>;
  readonly cooldownNs: bigint;
  /** Any profile has baseline_deviation on (so the baselines must be fed). */
  readonly anyBaseline: boolean;
  /** Any profile has a policy kind on (so verdicts are needed). */
  readonly anyPolicy: boolean;
  /** Any profile can call a flow slow (rtt_high or baseline_deviation): the node-wide hint is tracked. */
  readonly anySlow: boolean;

  constructor(readonly rules: RuleSet) {
    this.base = compileProfile(rules.base);
    this.overrides = rules.overrides.map((o) => ({
      namespace: o.match.namespace,
      workload: o.match.workload,
      compiled: compileProfile(o.profile),
    }));
    this.cooldownNs = BigInt(Math.round(rules.cooldownS * 1e9));
    const all = [this.base, ...this.overrides.map((o) => o.compiled)];
    this.anyBaseline = all.some((c) => c.baseline !== undefined);
    this.anyPolicy = all.some((c) => c.policyDenied !== undefined || c.policyUnprotected !== undefined);
    this.anySlow = all.some((c) => c.baseline !== undefined || c.rttHigh !== undefined);
  }

  /** First override matching either end, else the base. */
  profileFor(flow: EnrichedFlow): CompiledProfile {
    const list = this.overrides;
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      const s = flow.src;
      const d = flow.dst;
      if (endMatches(o, s.namespace, s.workload_name, s.pod) || endMatches(o, d.namespace, d.workload_name, d.pod))
        return o.compiled;
    }
    return this.base;
  }
}
