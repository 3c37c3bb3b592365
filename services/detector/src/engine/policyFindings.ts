// NetworkPolicy verdicts of observed flows, through @netpulse/policy: the probe of a flow (its
// ends by pod when the engine knows the pod, else by IP), and what a denial says: the deciding
// policies, the direction(s), and the nearest rule (one that admits the peer but not the port, or
// the port but not the peer) that would admit it with a small change.
import * as Either from "effect/Either";
import { peerMatches, portMatches } from "@netpulse/policy/evaluateDirection";
import { PROTOCOLS, type DirectionVerdict, type Protocol, type Verdict } from "@netpulse/policy/model";
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import type { Endpoint, EnrichedFlow } from "@netpulse/runtime/records";

const podRef = (e: Endpoint): string | undefined =>
  e.kind === "pod" && e.namespace !== "" && e.pod !== "" ? `${e.namespace}/${e.pod}` : undefined;

/** The verdict for a flow, or undefined when it cannot be judged (a protocol policies don't cover, a bad IP). */
export const flowVerdict = (policies: PolicyEngine, flow: EnrichedFlow): Verdict | undefined => {
  const protocol = flow.protocol.toUpperCase();
  if (!PROTOCOLS.has(protocol)) return undefined;
  const p = protocol as Protocol;
  const port = flow.dst_port;
  const srcPod = podRef(flow.src);
  const dstPod = podRef(flow.dst);
  if (srcPod !== undefined || dstPod !== undefined) {
    const byPod = policies.evaluate({ src: srcPod ?? flow.src_ip, dst: dstPod ?? flow.dst_ip, port, protocol: p });
    if (Either.isRight(byPod)) return byPod.right;
  }
  const byIp = policies.evaluate({ src: flow.src_ip, dst: flow.dst_ip, port, protocol: p });
  return Either.isRight(byIp) ? byIp.right : undefined;
};

export interface Denial {
  readonly direction: string;
  readonly policies: string;
  readonly nearRule: string;
}

const denied = (v: DirectionVerdict): boolean => v.verdict === "denied";

/** The nearest rule among the policies isolating the denied side, described, or "". */
const nearRule = (
  policies: PolicyEngine,
  v: Verdict,
  direction: "ingress" | "egress",
  flow: EnrichedFlow,
  protocol: Protocol,
): string => {
  const self = direction === "ingress" ? v.dst : v.src;
  const other = direction === "ingress" ? v.src : v.dst;
  if (self.kind !== "pod") return "";
  const selfPod = policies.pod(self.ref);
  if (selfPod === undefined) return "";
  const peerRef = other.kind === "pod" ? other.ref : other.ip;
  const peer = policies.resolve(peerRef);
  if (Either.isLeft(peer)) return "";
  const dstPod = direction === "ingress" ? selfPod : peer.right.pod;
  const port = flow.dst_port;
  const service = `${port}/${protocol}`;
  for (const policy of policies.selecting(selfPod)[direction]) {
    const rules = direction === "ingress" ? policy.ingress : policy.egress;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const portOk = rule.ports.length === 0 || rule.ports.some((pp) => portMatches(pp, port, protocol, dstPod));
      const peerOk =
        rule.peers.length === 0 ||
        rule.peers.some((pe) => peerMatches(pe, policy.namespace, peer.right, policies.namespaceLabels));
      const at = `${policy.key} ${direction}[${i}]`;
      if (peerOk && !portOk) return `${at} admits ${peerRef} but not ${service}`;
      if (portOk && !peerOk)
        return `${at} admits ${service} but not ${direction === "ingress" ? "from" : "to"} ${peerRef}`;
    }
  }
  return "";
};

/** What denied the flow (a verdict that does not allow it). */
export const denial = (policies: PolicyEngine, v: Verdict, flow: EnrichedFlow): Denial => {
  const protocol = flow.protocol.toUpperCase() as Protocol;
  const dirs: Array<"ingress" | "egress"> = [];
  if (denied(v.ingress)) dirs.push("ingress");
  if (denied(v.egress)) dirs.push("egress");
  const names = new Set<string>();
  for (const d of dirs) for (const p of v[d].policies) names.add(p);
  let near = "";
  for (const d of dirs) if (near === "") near = nearRule(policies, v, d, flow, protocol);
  return { direction: dirs.join("+"), policies: [...names].join(","), nearRule: near };
};
