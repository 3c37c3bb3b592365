// Verdicts of observed TCP flows by (src IP, dst IP, port): the flow's own strings are the keys, so a
// hit allocates nothing. IP-keyed is pod-keyed here: a pod's IP names one pod, and host-network
// pods sharing a node IP get the same verdict (policies neither select them nor match them by
// selector). Emptied when the policy state changes (its generation) or when full.
import type { Verdict } from "@netpulse/policy/model";
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { flowVerdict } from "./policyFindings.js";

type ByPort = Map<number, Verdict | null>;

export class VerdictCache {
  #bySrc = new Map<string, Map<string, ByPort>>();
  #policies: PolicyEngine | undefined;
  #generation = -1;
  #size = 0;

  constructor(readonly limit = 1 << 17) {}

  verdict(policies: PolicyEngine, f: EnrichedFlow): Verdict | undefined {
    // The capture reports TCP; anything else is rare enough to evaluate uncached.
    if (f.protocol !== "TCP") return flowVerdict(policies, f);
    if (policies !== this.#policies || policies.generation !== this.#generation || this.#size >= this.limit) {
      this.#bySrc = new Map();
      this.#policies = policies;
      this.#generation = policies.generation;
      this.#size = 0;
    }
    let byDst = this.#bySrc.get(f.src_ip);
    if (byDst === undefined) this.#bySrc.set(f.src_ip, (byDst = new Map<string, ByPort>()));
    let byPort = byDst.get(f.dst_ip);
    if (byPort === undefined) byDst.set(f.dst_ip, (byPort = new Map<number, Verdict | null>()));
    const hit = byPort.get(f.dst_port);
    if (hit !== undefined) return hit ?? undefined;
    const v = flowVerdict(policies, f);
    byPort.set(f.dst_port, v ?? null);
    this.#size++;
    return v;
  }
}
