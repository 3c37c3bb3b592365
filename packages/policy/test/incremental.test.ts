// The engine's indexes and caches against a brute-force evaluation (every policy checked on
// every probe, nothing cached) over random clusters and random sequences of watch-style changes.
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import {
  evaluateDirection,
  namespaceInfo,
  NAMESPACE_NAME_LABEL,
  parseIp,
  parsePod,
  parsePolicy,
  PolicyEngine,
  type DirectionVerdict,
  type Labels,
  type NamespaceInfo,
  type PodInfo,
  type Policy,
  type Protocol,
} from "../src/index.js";
import { selectorMatches } from "../src/selector.js";

let seed = 7;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

const NS = ["a", "b", "c"];
const APPS = ["web", "api", "db"];

const randomSelector = () =>
  pick([
    {},
    { matchLabels: { app: pick(APPS) } },
    { matchExpressions: [{ key: "app", operator: pick(["In", "NotIn"]), values: [pick(APPS)] }] },
    { matchExpressions: [{ key: "canary", operator: pick(["Exists", "DoesNotExist"]) }] },
  ]);
const randomPeer = () =>
  pick([
    { podSelector: randomSelector() },
    { namespaceSelector: { matchLabels: { env: pick(["prod", "dev"]) } } },
    { namespaceSelector: {}, podSelector: randomSelector() },
    { ipBlock: { cidr: "10.0.0.0/16", except: [`10.0.${rand(3)}.0/24`] } },
  ]);
const randomRule = (dir: "from" | "to") => ({
  ...(rand(3) > 0 ? { [dir]: Array.from({ length: 1 + rand(2) }, randomPeer) } : {}),
  ...(rand(2) > 0
    ? { ports: [pick([{ port: 80 }, { port: "http" }, { protocol: "UDP" }, { port: 80, endPort: 90 }])] }
    : {}),
});
const randomPolicy = (i: number): Policy => {
  const spec: Record<string, unknown> = { podSelector: randomSelector() };
  if (rand(2) > 0) spec["ingress"] = Array.from({ length: rand(3) }, () => randomRule("from"));
  if (rand(2) > 0) spec["egress"] = Array.from({ length: rand(3) }, () => randomRule("to"));
  if (rand(3) === 0) spec["policyTypes"] = pick([["Ingress"], ["Egress"], ["Ingress", "Egress"]]);
  const r = parsePolicy({ metadata: { name: `p${i}`, namespace: pick(NS) }, spec });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
};
const randomPod = (i: number): PodInfo => {
  const r = parsePod({
    metadata: {
      name: `pod${i}`,
      namespace: NS[i % 3],
      labels: { app: pick(APPS), ...(rand(4) === 0 ? { canary: "1" } : {}) },
    },
    spec: {
      hostNetwork: rand(10) === 0,
      containers: [{ name: "c", ports: [{ name: "http", containerPort: pick([80, 85, 8080]) }] }],
    },
    status: { podIP: `10.0.${i % 3}.${i}` },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
};

/** Brute force: no index, no cache. */
const reference = (
  state: { ns: Map<string, NamespaceInfo>; pods: Map<string, PodInfo>; policies: Map<string, Policy> },
  src: string,
  dst: string,
  port: number,
  protocol: Protocol,
) => {
  const ep = (ref: string) => {
    const pod = state.pods.get(ref) ?? [...state.pods.values()].find((p) => p.ips[0]?.text === ref);
    return { pod, ip: pod?.ips[0] ?? parseIp(ref) };
  };
  const nsLabels = (n: string): Labels => state.ns.get(n)?.labels ?? { [NAMESPACE_NAME_LABEL]: n };
  const sorted = [...state.policies.values()].sort((x, y) => (x.name < y.name ? -1 : 1));
  const selecting = (pod: PodInfo, dir: "ingress" | "egress") =>
    pod.hostNetwork
      ? []
      : sorted.filter(
          (p) =>
            p.namespace === pod.namespace &&
            selectorMatches(p.podSelector, pod.labels) &&
            (dir === "ingress" ? p.affectsIngress : p.affectsEgress),
        );
  const s = ep(src);
  const d = ep(dst);
  const none: DirectionVerdict = { verdict: "no-policy", policies: [], rules: [] };
  const egress = s.pod
    ? evaluateDirection(selecting(s.pod, "egress"), "egress", d, d.pod, port, protocol, nsLabels)
    : none;
  const ingress = d.pod
    ? evaluateDirection(selecting(d.pod, "ingress"), "ingress", s, d.pod, port, protocol, nsLabels)
    : none;
  return { allowed: egress.verdict !== "denied" && ingress.verdict !== "denied", ingress, egress };
};

describe("incremental index and cache", () => {
  it("agree with brute force after every random change", () => {
    const engine = new PolicyEngine();
    const state = {
      ns: new Map<string, NamespaceInfo>(),
      pods: new Map<string, PodInfo>(),
      policies: new Map<string, Policy>(),
    };
    let checked = 0;
    let allowed = 0;
    for (let step = 0; step < 300; step++) {
      const op = rand(7);
      if (op === 0) {
        const ns = namespaceInfo(pick(NS), { env: pick(["prod", "dev"]) });
        state.ns.set(ns.name, ns);
        engine.upsertNamespace(ns);
      } else if (op <= 2) {
        const pod = randomPod(rand(24));
        state.pods.set(`${pod.namespace}/${pod.name}`, pod);
        engine.upsertPod(pod);
      } else if (op === 3 && state.pods.size > 0) {
        const pod = pick([...state.pods.values()]);
        state.pods.delete(`${pod.namespace}/${pod.name}`);
        engine.deletePod(pod.namespace, pod.name);
      } else if (op <= 5) {
        const p = randomPolicy(rand(12));
        for (const [k, old] of state.policies)
          if (old.name === p.name && old.namespace === p.namespace) state.policies.delete(k);
        state.policies.set(p.key, p);
        engine.upsertPolicy(p);
      } else if (state.policies.size > 0) {
        const p = pick([...state.policies.values()]);
        state.policies.delete(p.key);
        engine.deletePolicy(p.namespace, p.name);
      }
      const ends = [
        ...state.pods.keys(),
        ...[...state.pods.values()].flatMap((p) => p.ips.map((i) => i.text)),
        "192.0.2.1",
        "10.0.1.200",
      ];
      for (let i = 0; i < 20 && ends.length > 0; i++) {
        const [src, dst, port, protocol] = [
          pick(ends),
          pick(ends),
          pick([80, 85, 8080]),
          pick(["TCP", "UDP"] as const),
        ];
        const got = Either.getOrThrow(engine.evaluate({ src, dst, port, protocol }));
        const want = reference(state, src, dst, port, protocol);
        expect(
          { allowed: got.allowed, ingress: got.ingress, egress: got.egress },
          `${src} → ${dst}:${port}/${protocol} at step ${step}`,
        ).toEqual(want);
        checked++;
        if (got.allowed) allowed++;
      }
    }
    // The random mix must exercise both outcomes, or the comparison proves little.
    expect(checked).toBeGreaterThan(5000);
    expect(allowed).toBeGreaterThan(checked / 10);
    expect(allowed).toBeLessThan(checked * 0.9);
  });
});
