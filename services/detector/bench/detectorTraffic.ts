// The detector bench's traffic: distinct workload pairs over the bench cluster, chosen by their
// real NetworkPolicy verdict so that ~97 % of pairs are allowed into isolated pods (normal), and
// ~1.5 % each denied (policy_denied) and into unprotected pods (policy_unprotected: on in these
// rules). Every pair reports one 10 s window per cycle (10 s of event time unless given; the
// latency run makes event time follow the wall clock), pairs spread over the cycle. Mostly normal: each pair has its own RTT level with ±20 % jitter; a few
// windows are slow (rtt_high), retransmit (retransmits_high) or retry SYNs, and 1 % of pairs shift
// their RTT level after a while (baseline_deviation). Deterministic: the same index, the same flow.
import * as Either from "effect/Either";
import type { PolicyEngine } from "@netpulse/policy";
import type { EnrichedFlow, Endpoint } from "@netpulse/runtime/records";
import { parseRules } from "../src/rules/parseRules.js";
import type { RuleSet } from "../src/rules/RuleSet.js";
import { NAMESPACES, WORKLOADS_PER_NS, workloads, type BenchWorkload } from "./detectorCluster.js";

/** 2026-01-01T00:00:00Z in ns. */
export const T0_NS = 1_767_225_600_000_000_000n;
const WINDOW_S = 10;
const SHIFT_CYCLE = 30;

/** Every kind on: the defaults plus policy_unprotected (off by default). */
export const RULES_YAML = "rules:\n  policy_unprotected: { enabled: true }\n";

export const benchRules = (): RuleSet => {
  const r = parseRules(RULES_YAML, "bench-rules.yaml");
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

export type PairClass = "normal" | "denied" | "unprotected";

interface Pair {
  readonly src: BenchWorkload;
  readonly dst: BenchWorkload;
  readonly rttUs: number;
  readonly shifts: boolean;
  readonly cls: PairClass;
}

/** A 32-bit hash of an integer and a salt, as a fraction in [0, 1). */
const frac = (i: number, salt: number): number => {
  let h = Math.imul(i ^ Math.imul(salt, 0x9e3779b9), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
};

const classOf = (policies: PolicyEngine, src: BenchWorkload, dst: BenchWorkload): PairClass | undefined => {
  const v = policies.evaluate({ src: src.pods[0].ref, dst: dst.pods[0].ref, port: dst.port, protocol: "TCP" });
  if (Either.isLeft(v)) return undefined;
  if (!v.right.allowed) return "denied";
  return v.right.ingress.verdict === "no-policy" ? "unprotected" : "normal";
};

const nameOf = (w: BenchWorkload): string => `${w.pods[0].endpoint.namespace}/${w.pods[0].endpoint.workload_name}`;

export class Traffic {
  readonly pairs: Pair[] = [];
  readonly counts: Record<PairClass, number> = { normal: 0, denied: 0, unprotected: 0 };

  readonly #t0Ns: bigint;
  readonly #cycleNs: number;

  constructor(
    policies: PolicyEngine,
    pairCount: number,
    time: { readonly t0Ns: bigint; readonly cycleS: number } = { t0Ns: T0_NS, cycleS: WINDOW_S },
  ) {
    this.#t0Ns = time.t0Ns;
    this.#cycleNs = time.cycleS * 1e9;
    const all = workloads();
    const quota: Record<PairClass, number> = {
      normal: pairCount - 2 * Math.round(pairCount * 0.015),
      denied: Math.round(pairCount * 0.015),
      unprotected: Math.round(pairCount * 0.015),
    };
    const used = new Set<string>();
    for (let j = 0; this.pairs.length < pairCount; j++) {
      if (j > pairCount * 200) throw new Error(`only ${this.pairs.length} workload pairs fit the class quotas`);
      const from = Math.floor(frac(j, 1) * all.length);
      // 40 % of pairs stay in one namespace (more would exhaust its 1 225 pairs at 100 k pairs).
      const ns = frac(j, 2) < 0.4 ? Math.floor(from / WORKLOADS_PER_NS) : Math.floor(frac(j, 3) * NAMESPACES);
      const src = all[from]!;
      const dst = all[ns * WORKLOADS_PER_NS + Math.floor(frac(j, 4) * WORKLOADS_PER_NS)]!;
      const a = nameOf(src);
      const b = nameOf(dst);
      const key = a <= b ? `${a}|${b}` : `${b}|${a}`;
      if (src === dst || used.has(key)) continue;
      const cls = classOf(policies, src, dst);
      if (cls === undefined || this.counts[cls] >= quota[cls]) continue;
      used.add(key);
      this.counts[cls]++;
      const k = this.pairs.length;
      this.pairs.push({ src, dst, rttUs: Math.round(300 * Math.exp(3 * frac(k, 5))), shifts: frac(k, 6) < 0.01, cls });
    }
  }

  /**
   * The i-th window: pair (i mod pairs) in cycle ⌊i / pairs⌋, ending at t0 + (i / pairs) cycles.
   * `probe` makes it a fresh pair's (the source workload renamed) with that RTT and flow id.
   */
  flow(
    i: number,
    probe?: { readonly workload: string; readonly srttUs: number; readonly flowId: bigint },
  ): EnrichedFlow {
    const n = this.pairs.length;
    const cycle = Math.floor(i / n);
    const slot = i % n;
    const k = (slot * 7919) % n;
    const p = this.pairs[k]!;
    const conv = cycle + k;
    const s = p.src.pods[conv & 1]!;
    const d = p.dst.pods[(conv >> 1) & 1]!;
    const endNs = this.#t0Ns + BigInt(Math.round((cycle + slot / n) * this.#cycleNs));
    const r = frac(i, 7);
    let srtt = p.rttUs * (0.8 + 0.4 * frac(i, 8));
    if (p.shifts && cycle >= SHIFT_CYCLE) srtt = srtt * 4 + 10_000;
    if (r < 0.002) srtt = 150_000 + 50_000 * frac(i, 9);
    const retrans = r >= 0.002 && r < 0.004 ? 12n : 0n;
    const src: Endpoint = probe === undefined ? s.endpoint : { ...s.endpoint, workload_name: probe.workload };
    return {
      flow_id: probe?.flowId ?? BigInt(i) + 1n,
      node: s.endpoint.node,
      start_ns: endNs - BigInt(WINDOW_S * 1e9),
      end_ns: endNs,
      src_ip: s.ip,
      src_port: 32768 + (i % 28000),
      dst_ip: d.ip,
      dst_port: p.dst.port,
      protocol: "TCP",
      direction: "client",
      bytes_sent: BigInt(20_000 + (i % 5000)),
      bytes_received: BigInt(80_000 + (i % 9000)),
      segs_sent: 100n,
      segs_received: 120n,
      retransmits: retrans,
      syn_retransmits: r >= 0.004 && r < 0.005 ? 1n : 0n,
      srtt_us: Math.round(probe?.srttUs ?? srtt),
      min_rtt_us: Math.round(p.rttUs * 0.7),
      max_rtt_us: Math.round(srtt * 1.5),
      state: "ESTABLISHED",
      close_reason: "open",
      netns: 4026532000n + BigInt(k % 100),
      cgroup_id: 100_000n + BigInt(k),
      pid: 1000 + (k % 30000),
      comm: "java",
      sampling: 1,
      src,
      dst: d.endpoint,
    };
  }

  /** Flows [from, from + count). */
  flows(from: number, count: number): EnrichedFlow[] {
    const out = new Array<EnrichedFlow>(count);
    for (let j = 0; j < count; j++) out[j] = this.flow(from + j);
    return out;
  }
}
