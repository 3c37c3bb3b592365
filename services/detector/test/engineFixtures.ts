// Flows, heartbeats and a driver for the detector engine's tests: event time in seconds from a
// fixed origin, workload ends by "namespace/workload", everything else plausible.
import * as Either from "effect/Either";
import {
  emptyEndpoint,
  type Anomaly,
  type EnrichedFlow,
  type Endpoint,
  type Heartbeat,
} from "@netpulse/runtime/records";
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import { rawFlow } from "../../../test/support/rawFlow.js";
import { DetectorEngine, type EngineOptions } from "../src/engine/Engine.js";
import { parseRules } from "../src/rules/parseRules.js";
import { defaultRules, type RuleSet } from "../src/rules/RuleSet.js";

export const T0 = 1_767_225_600_000_000_000n;
export const at = (s: number): bigint => T0 + BigInt(Math.round(s * 1e9));

/** "ns/workload" (a pod end on `node`), or an IP for an external end. */
export const ep = (ref: string, node = "node-a", pod = ""): Endpoint => {
  const [namespace, workload] = ref.split("/");
  if (workload === undefined) return { ...emptyEndpoint, kind: "external", external_name: "" };
  return {
    ...emptyEndpoint,
    kind: "pod",
    namespace: namespace!,
    workload_kind: workload === "" ? "" : "Deployment",
    workload_name: workload,
    pod: pod === "" ? `${workload}-5d8f7-abcde` : pod,
    node,
  };
};

export interface FlowSpec extends Partial<Omit<EnrichedFlow, "src" | "dst">> {
  /** Window [t, t + len] in seconds from T0. */
  readonly t?: number;
  readonly len?: number;
  readonly from?: string;
  readonly to?: string;
  readonly src?: Endpoint;
  readonly dst?: Endpoint;
}

let nextId = 1n;

export const flow = (o: FlowSpec = {}): EnrichedFlow => {
  const t = o.t ?? 0;
  const len = o.len ?? 5;
  const { t: _t, len: _l, from, to, ...rest } = o;
  return {
    ...rawFlow({ srtt_us: 1000, retransmits: 0n, syn_retransmits: 0n, segs_sent: 100n }),
    flow_id: nextId++,
    start_ns: at(t),
    end_ns: at(t + len),
    src: ep(from ?? "shop/frontend", "node-a"),
    dst: ep(to ?? "data/postgres", "node-b"),
    ...rest,
  };
};

export const beat = (node: string, t: number, o: Partial<Heartbeat> = {}): Heartbeat => ({
  node,
  ts_ns: at(t),
  conntrack_count: 1000n,
  conntrack_max: 65536n,
  conntrack_insert_failed: 0n,
  conntrack_drop: 0n,
  flows_tracked: 10n,
  records_published: 100n,
  dropped_ringbuf: 0n,
  dropped_queue: 0n,
  sampling: 1,
  ...o,
});

export const rules = (yaml: string): RuleSet => {
  const r = parseRules(yaml, "test.yaml");
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

/** Only the named kinds on (baseline and policies off unless named). */
export const only = (...kinds: string[]): RuleSet =>
  rules(
    `rules:\n${[
      "rtt_high",
      "retransmits_high",
      "syn_retransmits",
      "baseline_deviation",
      "policy_denied",
      "policy_unprotected",
      "capture_silent",
      "conntrack_pressure",
    ]
      .map((k) => `  ${k}: { enabled: ${kinds.includes(k)} }`)
      .join("\n")}\n`,
  );

/** An engine and the anomalies of every step, collected. */
export class Driver {
  readonly engine: DetectorEngine;
  readonly out: Anomaly[] = [];
  constructor(
    public rules: RuleSet = defaultRules,
    public policies: PolicyEngine | undefined = undefined,
    options: EngineOptions = {},
  ) {
    this.engine = new DetectorEngine(options);
  }
  flows(...flows: EnrichedFlow[]): ReadonlyArray<Anomaly> {
    return this.#push(this.engine.step({ _tag: "Flows", flows }, this));
  }
  beats(...beats: Heartbeat[]): ReadonlyArray<Anomaly> {
    return this.#push(this.engine.step({ _tag: "Heartbeats", beats }, this));
  }
  tick(s: number): ReadonlyArray<Anomaly> {
    return this.#push(this.engine.step({ _tag: "Tick", nowNs: at(s) }, this));
  }
  kinds(): string[] {
    return this.out.map((a) => `${a.kind}:${a.status}`);
  }
  #push(a: ReadonlyArray<Anomaly>): ReadonlyArray<Anomaly> {
    this.out.push(...a);
    return a;
  }
}
