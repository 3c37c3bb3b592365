// The normalized, validated shapes the evaluator works on: namespaces, pods and NetworkPolicies
// after manifest/informer objects went through the parsers, plus the verdict types it returns.
import type { ParsedIp, Cidr } from "./ip.js";

export type Protocol = "TCP" | "UDP" | "SCTP";
export const PROTOCOLS: ReadonlySet<string> = new Set<Protocol>(["TCP", "UDP", "SCTP"]);

export type Labels = Readonly<Record<string, string>>;

/** Set by the API server on every namespace since Kubernetes 1.21; selectors rely on it. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Labels;
}

export interface ContainerPort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly hostNetwork: boolean;
  readonly ports: readonly ContainerPort[];
  /** status.podIPs (status.podIP first when both are given), canonical, primary first. */
  readonly ips: readonly ParsedIp[];
}

export type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: ReadonlyArray<readonly [string, string]>;
  readonly matchExpressions: readonly Requirement[];
}

export interface IpBlock {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

/** One `from`/`to` entry. Validation guarantees ipBlock is never combined with selectors. */
export interface Peer {
  readonly podSelector: LabelSelector | undefined;
  readonly namespaceSelector: LabelSelector | undefined;
  readonly ipBlock: IpBlock | undefined;
}

export interface PolicyPort {
  readonly protocol: Protocol;
  /** undefined = every port of the protocol; string = a named container port. */
  readonly port: number | string | undefined;
  /** Inclusive upper bound; only with a numeric port. */
  readonly endPort: number | undefined;
}

/** An empty `peers` list matches every peer (external IPs too); empty `ports` matches every port. */
export interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: readonly PolicyPort[];
}

export interface Policy {
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name", used in verdicts. */
  readonly key: string;
  readonly podSelector: LabelSelector;
  readonly affectsIngress: boolean;
  readonly affectsEgress: boolean;
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
}

export type VerdictKind = "allowed" | "denied" | "no-policy";

export interface RuleRef {
  readonly policy: string;
  readonly rule: number;
}

export interface DirectionVerdict {
  readonly verdict: VerdictKind;
  /** allowed: the policies whose rules allowed it; denied: the policies isolating the pod. */
  readonly policies: readonly string[];
  /** allowed: every rule that matched; otherwise empty. */
  readonly rules: readonly RuleRef[];
}

/** How one end of a probe was understood. */
export type EndpointDesc =
  | { readonly kind: "pod"; readonly ref: string; readonly ip: string | undefined; readonly hostNetwork: boolean }
  | { readonly kind: "external"; readonly ip: string };

export interface Verdict {
  readonly allowed: boolean;
  readonly ingress: DirectionVerdict;
  readonly egress: DirectionVerdict;
  readonly src: EndpointDesc;
  readonly dst: EndpointDesc;
}

export interface Probe {
  /** "namespace/name" of a pod, or an IP address (a known pod IP means that pod). */
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: Protocol;
}
