// The NetworkPolicy decision for one direction at one pod, as a pure function: which of the
// policies isolating the pod have a rule whose peers and ports match the other end.
import type { ParsedIp } from "./ip.js";
import { cidrContains } from "./ip.js";
import type { DirectionVerdict, Labels, Peer, PodInfo, Policy, PolicyPort, Protocol, RuleRef } from "./model.js";
import { selectorMatches } from "./selector.js";

/** One end of a connection: a pod (maybe hostNetwork), or an IP outside the cluster's pods. */
export interface Endpoint {
  readonly pod: PodInfo | undefined;
  /** The address used for ipBlock matching; undefined when a pod has no IP yet. */
  readonly ip: ParsedIp | undefined;
}

export const NO_POLICY: DirectionVerdict = Object.freeze({ verdict: "no-policy", policies: [], rules: [] });

/**
 * ipBlock is matched against the endpoint's IP, pod or not (the API says it is meant for
 * cluster-external IPs, but pod IPs are IPs and the upstream tests expect them to match).
 * Selectors only ever match non-hostNetwork pods: hostNetwork traffic is node traffic.
 */
export const peerMatches = (peer: Peer, policyNs: string, ep: Endpoint, nsLabels: (ns: string) => Labels): boolean => {
  if (peer.ipBlock !== undefined) {
    const ip = ep.ip;
    if (ip === undefined || !cidrContains(peer.ipBlock.cidr, ip)) return false;
    for (const e of peer.ipBlock.except) if (cidrContains(e, ip)) return false;
    return true;
  }
  const pod = ep.pod;
  if (pod === undefined || pod.hostNetwork) return false;
  if (peer.namespaceSelector !== undefined) {
    if (!selectorMatches(peer.namespaceSelector, nsLabels(pod.namespace))) return false;
  } else if (pod.namespace !== policyNs) return false;
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
};

/** Named ports resolve against the destination pod's container ports (name AND protocol). */
export const portMatches = (pp: PolicyPort, port: number, protocol: Protocol, dstPod: PodInfo | undefined): boolean => {
  if (pp.protocol !== protocol) return false;
  const p = pp.port;
  if (p === undefined) return true;
  if (typeof p === "number") return port >= p && port <= (pp.endPort ?? p);
  if (dstPod === undefined) return false;
  for (const cp of dstPod.ports) if (cp.name === p && cp.protocol === protocol && cp.port === port) return true;
  return false;
};

/**
 * `policies` are the ones selecting the pod for this direction (already filtered); `peer` is the
 * other end; `dstPod` is the destination (the pod itself for ingress, the peer for egress).
 */
export const evaluateDirection = (
  policies: readonly Policy[],
  direction: "ingress" | "egress",
  peer: Endpoint,
  dstPod: PodInfo | undefined,
  port: number,
  protocol: Protocol,
  nsLabels: (ns: string) => Labels,
): DirectionVerdict => {
  if (policies.length === 0) return NO_POLICY;
  let rules: RuleRef[] | undefined;
  let allowing: string[] | undefined;
  for (const policy of policies) {
    const list = direction === "ingress" ? policy.ingress : policy.egress;
    for (let i = 0; i < list.length; i++) {
      const rule = list[i]!;
      if (rule.ports.length > 0 && !rule.ports.some((pp) => portMatches(pp, port, protocol, dstPod))) continue;
      if (rule.peers.length > 0 && !rule.peers.some((p) => peerMatches(p, policy.namespace, peer, nsLabels))) continue;
      (rules ??= []).push({ policy: policy.key, rule: i });
      allowing ??= [];
      if (allowing[allowing.length - 1] !== policy.key) allowing.push(policy.key);
    }
  }
  if (rules !== undefined && allowing !== undefined) return { verdict: "allowed", policies: allowing, rules };
  return { verdict: "denied", policies: policies.map((p) => p.key), rules: [] };
};
