// The what-if report as one JSON document: a summary, the groups newly denied and newly allowed,
// and the candidate rules no observed flow matched. Everything is sorted (groups by source,
// destination, port, protocol; rules by policy, direction, index), so the same traffic and
// policies give the same bytes. Nanosecond times are decimal strings (beyond 2^53).
import type { Policy } from "@netpulse/policy";
import type { WhatIfMode } from "./policySets.js";
import { ruleName, type EndAccumulator, type Group, type WhatIf } from "./WhatIf.js";

export interface ReportEnd {
  readonly name: string;
  readonly kind: string;
  readonly namespace: string;
  readonly workload_name: string;
  readonly pods: readonly string[];
}

export interface RuleEntry {
  readonly policy: string;
  readonly rule: string;
}

interface GroupFields {
  readonly src: ReportEnd;
  readonly dst: ReportEnd;
  readonly dst_port: number;
  readonly protocol: string;
  readonly flows: number;
  readonly first_seen_ns: string;
  readonly last_seen_ns: string;
  /** "ingress", "egress" or "ingress+egress" (as the detector says it): the side(s) that changed. */
  readonly direction: string;
}

export interface NewlyDenied extends GroupFields {
  /** The policies isolating the denied side(s) under the candidate set. */
  readonly policies: readonly string[];
  /** The subset of `policies` that are candidates. */
  readonly candidate_policies: readonly string[];
  /** The detector's nearest rule that would admit it with a small change, or "". */
  readonly nearest_rule: string;
}

export interface NewlyAllowed extends GroupFields {
  /** The rules now admitting the formerly denied side(s). */
  readonly rules: readonly RuleEntry[];
  /** Formerly denied sides that no policy isolates under the candidate set. */
  readonly not_isolated: readonly string[];
}

export interface UnusedRule extends RuleEntry {
  readonly reason: string;
}

export interface WhatIfReportDoc {
  readonly summary: {
    readonly mode: WhatIfMode;
    readonly candidates: readonly string[];
    readonly replaced: readonly string[];
    readonly removed: readonly string[];
    readonly flows_evaluated: number;
    readonly flows_unjudged: number;
    readonly flows_newly_denied: number;
    readonly flows_newly_allowed: number;
    readonly flows_unchanged: number;
    readonly flows_still_denied: number;
    readonly pairs: number;
    readonly pairs_newly_denied: number;
    readonly pairs_newly_allowed: number;
    readonly pairs_unchanged: number;
    readonly messages_skipped: number;
  };
  readonly newly_denied: readonly NewlyDenied[];
  readonly newly_allowed: readonly NewlyAllowed[];
  readonly unused_rules: readonly UnusedRule[];
}

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

const sortedGroups = (groups: Map<string, Group>): Group[] =>
  [...groups.values()].sort(
    (a, b) =>
      cmp(a.src.name, b.src.name) ||
      cmp(a.dst.name, b.dst.name) ||
      cmp(a.dstPort, b.dstPort) ||
      cmp(a.protocol, b.protocol),
  );

const end = (e: EndAccumulator): ReportEnd => ({
  name: e.name,
  kind: e.kind,
  namespace: e.namespace,
  workload_name: e.workload_name,
  pods: [...e.pods].sort(),
});

const DIRECTION_ORDER = ["ingress", "egress"];
const directions = (s: ReadonlySet<string>): string[] => DIRECTION_ORDER.filter((d) => s.has(d));

const groupFields = (g: Group): GroupFields => ({
  src: end(g.src),
  dst: end(g.dst),
  dst_port: g.dstPort,
  protocol: g.protocol,
  flows: g.flows,
  first_seen_ns: g.firstNs.toString(),
  last_seen_ns: g.lastNs.toString(),
  direction: directions(g.directions).join("+"),
});

/** "ns/name\tingress[3]" → its parts; sorted by policy, direction, then index as a number. */
const ruleEntries = (names: Iterable<string>): RuleEntry[] =>
  [...names]
    .map((n) => {
      const [policy = "", rule = ""] = n.split("\t");
      return { policy, rule };
    })
    .sort((a, b) => cmp(a.policy, b.policy) || cmp(ruleOrder(a.rule), ruleOrder(b.rule)));

const ruleOrder = (rule: string): string => {
  const m = /^(\w+)\[(\d+)\]$/.exec(rule);
  return m === null ? rule : `${m[1]}[${(m[2] ?? "").padStart(6, "0")}]`;
};

const unusedRules = (w: WhatIf): UnusedRule[] => {
  const out: UnusedRule[] = [];
  const selectsAny = (p: Policy, dir: "ingress" | "egress"): boolean =>
    w.sets.pods.some((pod) => w.sets.candidate.selecting(pod)[dir].some((q) => q.key === p.key));
  for (const p of w.sets.candidates)
    for (const dir of ["ingress", "egress"] as const) {
      const rules = dir === "ingress" ? p.ingress : p.egress;
      const affects = dir === "ingress" ? p.affectsIngress : p.affectsEgress;
      const type = dir === "ingress" ? "Ingress" : "Egress";
      for (let i = 0; i < rules.length; i++) {
        if (w.usedRules.has(ruleName({ policy: p.key, rule: i }, dir))) continue;
        const reason = !affects
          ? `dead: policyTypes leaves out ${type}, so the rule is ignored`
          : !selectsAny(p, dir)
            ? "dead: the policy selects no pod in the manifests"
            : "no observed flow matched";
        out.push({ policy: p.key, rule: `${dir}[${i}]`, reason });
      }
    }
  return out;
};

export const whatIfReport = (w: WhatIf, mode: WhatIfMode, messagesSkipped: number): WhatIfReportDoc => {
  const c = w.counts;
  let changedPairs = 0;
  for (const changed of w.pairs.values()) if (changed) changedPairs++;
  const candidateKeys = new Set(w.sets.candidates.map((p) => p.key));
  return {
    summary: {
      mode,
      candidates: w.sets.candidates.map((p) => p.key),
      replaced: w.sets.replaced,
      removed: w.sets.removed,
      flows_evaluated: c.flowsEvaluated,
      flows_unjudged: c.flowsUnjudged,
      flows_newly_denied: c.flowsNewlyDenied,
      flows_newly_allowed: c.flowsNewlyAllowed,
      flows_unchanged: c.flowsStillAllowed + c.flowsStillDenied,
      flows_still_denied: c.flowsStillDenied,
      pairs: w.pairs.size,
      pairs_newly_denied: w.newlyDenied.size,
      pairs_newly_allowed: w.newlyAllowed.size,
      pairs_unchanged: w.pairs.size - changedPairs,
      messages_skipped: messagesSkipped,
    },
    newly_denied: sortedGroups(w.newlyDenied).map((g) => {
      const policies = [...g.policies].sort();
      return {
        ...groupFields(g),
        policies,
        candidate_policies: policies.filter((p) => candidateKeys.has(p)),
        nearest_rule: [...g.nearest].sort()[0] ?? "",
      };
    }),
    newly_allowed: sortedGroups(w.newlyAllowed).map((g) => ({
      ...groupFields(g),
      rules: ruleEntries(g.rules),
      not_isolated: directions(g.unisolated),
    })),
    unused_rules: unusedRules(w),
  };
};
