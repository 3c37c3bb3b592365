// What a candidate policy set changes for observed traffic, flow by flow: each flow is judged by
// the detector's own policy audit (`flowVerdict`, `denial`) under the policies in force and under
// the candidate set, and the differences fold into groups per directed workload pair, destination
// port and protocol. It also notes which candidate rules an observed flow matched. Pure: no I/O,
// no clock; memory grows with the number of groups, not of flows.
import { denial, flowVerdict } from "@netpulse/detector";
import type { DirectionVerdict, RuleRef, Verdict } from "@netpulse/policy";
import { endKey } from "@netpulse/runtime/flowKey";
import type { Endpoint, EnrichedFlow } from "@netpulse/runtime/records";
import type { PolicySets } from "./policySets.js";

const DIRECTIONS = ["ingress", "egress"] as const;
type Direction = (typeof DIRECTIONS)[number];

export interface EndAccumulator {
  readonly name: string;
  readonly kind: string;
  readonly namespace: string;
  readonly workload_name: string;
  readonly pods: Set<string>;
}

export interface Group {
  readonly src: EndAccumulator;
  readonly dst: EndAccumulator;
  readonly dstPort: number;
  readonly protocol: string;
  flows: number;
  firstNs: bigint;
  lastNs: bigint;
  /** Directions that changed (newly denied: denied now; newly allowed: denied before). */
  readonly directions: Set<Direction>;
  /** Newly denied: the policies isolating the denied side(s) under the candidate set. */
  readonly policies: Set<string>;
  /** Newly denied: the nearest rule the detector names, per flow; the smallest is reported. */
  readonly nearest: Set<string>;
  /** Newly allowed: the rules now admitting the formerly denied direction(s), "policy\tdirection[i]". */
  readonly rules: Set<string>;
  /** Newly allowed: formerly denied directions no policy isolates any more. */
  readonly unisolated: Set<Direction>;
}

export interface Counts {
  flowsEvaluated: number;
  flowsUnjudged: number;
  flowsNewlyDenied: number;
  flowsNewlyAllowed: number;
  flowsStillAllowed: number;
  flowsStillDenied: number;
}

const endOf = (e: Endpoint, ip: string): EndAccumulator => ({
  name: endKey(e, ip),
  kind: e.kind,
  namespace: e.namespace,
  workload_name: e.workload_name,
  pods: new Set<string>(),
});

export const ruleName = (r: RuleRef, d: Direction): string => `${r.policy}\t${d}[${r.rule}]`;

export class WhatIf {
  readonly newlyDenied = new Map<string, Group>();
  readonly newlyAllowed = new Map<string, Group>();
  /** Every group key seen, with whether a flow of it changed. */
  readonly pairs = new Map<string, boolean>();
  /** Candidate rules some observed flow matched, as ruleName gives them. */
  readonly usedRules = new Set<string>();
  readonly counts: Counts = {
    flowsEvaluated: 0,
    flowsUnjudged: 0,
    flowsNewlyDenied: 0,
    flowsNewlyAllowed: 0,
    flowsStillAllowed: 0,
    flowsStillDenied: 0,
  };
  readonly #candidateKeys: ReadonlySet<string>;

  constructor(readonly sets: PolicySets) {
    this.#candidateKeys = new Set(sets.candidates.map((p) => p.key));
  }

  observe(f: EnrichedFlow): void {
    const before = flowVerdict(this.sets.inForce, f);
    const after = flowVerdict(this.sets.candidate, f);
    if (before === undefined || after === undefined) {
      this.counts.flowsUnjudged++;
      return;
    }
    this.counts.flowsEvaluated++;
    this.#noteRules(after);
    const srcName = endKey(f.src, f.src_ip);
    const dstName = endKey(f.dst, f.dst_ip);
    const key = `${srcName}\n${dstName}\n${f.dst_port}\n${f.protocol.toUpperCase()}`;
    const changed = before.allowed !== after.allowed;
    if (changed || !this.pairs.has(key)) this.pairs.set(key, changed || this.pairs.get(key) === true);
    if (!changed) {
      if (after.allowed) this.counts.flowsStillAllowed++;
      else this.counts.flowsStillDenied++;
      return;
    }
    if (!after.allowed) {
      this.counts.flowsNewlyDenied++;
      const g = this.#group(this.newlyDenied, key, f);
      const d = denial(this.sets.candidate, after, f);
      for (const dir of DIRECTIONS) if (after[dir].verdict === "denied") g.directions.add(dir);
      for (const p of d.policies.split(",")) if (p !== "") g.policies.add(p);
      if (d.nearRule !== "") g.nearest.add(d.nearRule);
    } else {
      this.counts.flowsNewlyAllowed++;
      const g = this.#group(this.newlyAllowed, key, f);
      for (const dir of DIRECTIONS) {
        if (before[dir].verdict !== "denied") continue;
        g.directions.add(dir);
        const now: DirectionVerdict = after[dir];
        if (now.verdict === "no-policy") g.unisolated.add(dir);
        for (const r of now.rules) g.rules.add(ruleName(r, dir));
      }
    }
  }

  #noteRules(v: Verdict): void {
    for (const dir of DIRECTIONS)
      for (const r of v[dir].rules) if (this.#candidateKeys.has(r.policy)) this.usedRules.add(ruleName(r, dir));
  }

  #group(groups: Map<string, Group>, key: string, f: EnrichedFlow): Group {
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        src: endOf(f.src, f.src_ip),
        dst: endOf(f.dst, f.dst_ip),
        dstPort: f.dst_port,
        protocol: f.protocol.toUpperCase(),
        flows: 0,
        firstNs: f.start_ns,
        lastNs: f.end_ns,
        directions: new Set(),
        policies: new Set(),
        nearest: new Set(),
        rules: new Set(),
        unisolated: new Set(),
      };
      groups.set(key, g);
    }
    g.flows++;
    if (f.start_ns < g.firstNs) g.firstNs = f.start_ns;
    if (f.end_ns > g.lastNs) g.lastNs = f.end_ns;
    if (f.src.kind === "pod" && f.src.pod !== "") g.src.pods.add(f.src.pod);
    if (f.dst.kind === "pod" && f.dst.pod !== "") g.dst.pods.add(f.dst.pod);
    return g;
  }
}
