// The cluster state the evaluator sees (namespaces, pods, policies) with its indexes: pods by
// IP and namespace, policies by namespace, which policies select each pod (lazy, invalidated
// per namespace/pod), and a bounded verdict cache cleared whenever the state changes. Pure: no
// I/O, no clocks; the detector feeds it watch events, `policy check` feeds it manifests.
import { Data, Either } from "effect";
import { evaluateDirection, NO_POLICY, type Endpoint } from "./evaluateDirection.js";
import { parseIp, type ParsedIp } from "./ip.js";
import type { EndpointDesc, Labels, NamespaceInfo, PodInfo, Policy, Probe, Verdict } from "./model.js";
import { namespaceInfo } from "./parseObjects.js";
import { selectorMatches } from "./selector.js";

export class UnknownEndpoint extends Data.TaggedError("UnknownEndpoint")<{
  readonly ref: string;
  readonly message: string;
}> {}

export type Evaluation = Either.Either<Verdict, UnknownEndpoint>;

export interface EngineOptions {
  /** Verdicts kept before the cache is emptied; 0 disables caching. Default 1 Mi. */
  readonly cacheSize?: number;
}

interface Selection {
  readonly ingress: readonly Policy[];
  readonly egress: readonly Policy[];
}

interface Resolved extends Endpoint {
  readonly explicitIp: boolean;
}

const ENDPOINT_CACHE = 1 << 16;

const podKey = (ns: string, name: string): string => `${ns}/${name}`;

export class PolicyEngine {
  readonly #namespaces = new Map<string, NamespaceInfo>();
  readonly #implicitNs = new Map<string, Labels>();
  readonly #pods = new Map<string, PodInfo>();
  readonly #podsByIp = new Map<string, PodInfo[]>();
  readonly #podsByNs = new Map<string, Set<string>>();
  readonly #policies = new Map<string, Policy>();
  readonly #policiesInNs = new Map<string, Map<string, Policy>>();
  /** Sorted by name, so verdicts list policies in a stable order. */
  readonly #policiesByNs = new Map<string, Policy[]>();
  readonly #selection = new Map<string, Selection>();
  readonly #cache = new Map<string, Evaluation>();
  /** Pod refs and IP strings already resolved (IP parsing dominates an uncached verdict). */
  readonly #endpoints = new Map<string, Either.Either<Resolved, UnknownEndpoint>>();
  readonly #cacheSize: number;
  #generation = 0;

  constructor(options: EngineOptions = {}) {
    this.#cacheSize = options.cacheSize ?? 1 << 20;
  }

  /** Bumped by every change; verdicts computed under an older generation are gone. */
  get generation(): number {
    return this.#generation;
  }

  get counts(): { namespaces: number; pods: number; policies: number; cachedVerdicts: number } {
    return { namespaces: this.#namespaces.size, pods: this.#pods.size, policies: this.#policies.size, cachedVerdicts: this.#cache.size };
  }

  pod(ref: string): PodInfo | undefined {
    return this.#pods.get(ref);
  }

  upsertNamespace(ns: NamespaceInfo): void {
    this.#namespaces.set(ns.name, ns);
    this.#changed();
  }

  deleteNamespace(name: string): void {
    if (this.#namespaces.delete(name)) this.#changed();
  }

  upsertPod(pod: PodInfo): void {
    const key = podKey(pod.namespace, pod.name);
    this.#unindexPod(key);
    this.#pods.set(key, pod);
    for (const ip of pod.ips) {
      const list = this.#podsByIp.get(ip.text);
      if (list === undefined) this.#podsByIp.set(ip.text, [pod]);
      else list.push(pod);
    }
    let inNs = this.#podsByNs.get(pod.namespace);
    if (inNs === undefined) this.#podsByNs.set(pod.namespace, (inNs = new Set()));
    inNs.add(key);
    this.#changed();
  }

  deletePod(namespace: string, name: string): void {
    if (this.#unindexPod(podKey(namespace, name))) this.#changed();
  }

  upsertPolicy(policy: Policy): void {
    this.#policies.set(policy.key, policy);
    let inNs = this.#policiesInNs.get(policy.namespace);
    if (inNs === undefined) this.#policiesInNs.set(policy.namespace, (inNs = new Map<string, Policy>()));
    inNs.set(policy.name, policy);
    this.#policiesChanged(policy.namespace);
  }

  deletePolicy(namespace: string, name: string): void {
    if (!this.#policies.delete(podKey(namespace, name))) return;
    this.#policiesInNs.get(namespace)?.delete(name);
    this.#policiesChanged(namespace);
  }

  /** Resolves "namespace/name" or an IP; an IP of no pod is external. */
  resolve(ref: string): Either.Either<Endpoint & { readonly desc: EndpointDesc }, UnknownEndpoint> {
    const r = this.#resolve(ref);
    if (Either.isLeft(r)) return Either.left(r.left);
    return Either.right({ pod: r.right.pod, ip: r.right.ip, desc: describe(r.right, ref) });
  }

  evaluate(probe: Probe): Evaluation {
    const key = `${probe.src}\n${probe.dst}\n${probe.port}\n${probe.protocol}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const result = this.#evaluate(probe);
    if (this.#cacheSize > 0) {
      if (this.#cache.size >= this.#cacheSize) this.#cache.clear();
      this.#cache.set(key, result);
    }
    return result;
  }

  /** Policies in the pod's namespace selecting it, per direction (hostNetwork pods: none). */
  selecting(pod: PodInfo): Selection {
    const key = podKey(pod.namespace, pod.name);
    let sel = this.#selection.get(key);
    if (sel === undefined) {
      const ingress: Policy[] = [];
      const egress: Policy[] = [];
      if (!pod.hostNetwork)
        for (const p of this.#policiesByNs.get(pod.namespace) ?? [])
          if (selectorMatches(p.podSelector, pod.labels)) {
            if (p.affectsIngress) ingress.push(p);
            if (p.affectsEgress) egress.push(p);
          }
      sel = { ingress, egress };
      if (this.#pods.get(key) === pod) this.#selection.set(key, sel);
    }
    return sel;
  }

  readonly namespaceLabels = (name: string): Labels => {
    const ns = this.#namespaces.get(name);
    if (ns !== undefined) return ns.labels;
    let implicit = this.#implicitNs.get(name);
    if (implicit === undefined) this.#implicitNs.set(name, (implicit = namespaceInfo(name).labels));
    return implicit;
  };

  #evaluate(probe: Probe): Evaluation {
    const src = this.#resolve(probe.src);
    if (Either.isLeft(src)) return Either.left(src.left);
    const dst = this.#resolve(probe.dst);
    if (Either.isLeft(dst)) return Either.left(dst.left);
    const s = withFamily(src.right, dst.right);
    const d = withFamily(dst.right, src.right);
    const egress =
      s.pod === undefined ? NO_POLICY
      : evaluateDirection(this.selecting(s.pod).egress, "egress", d, d.pod, probe.port, probe.protocol, this.namespaceLabels);
    const ingress =
      d.pod === undefined ? NO_POLICY
      : evaluateDirection(this.selecting(d.pod).ingress, "ingress", s, d.pod, probe.port, probe.protocol, this.namespaceLabels);
    return Either.right({
      allowed: egress.verdict !== "denied" && ingress.verdict !== "denied",
      ingress,
      egress,
      src: describe(s, probe.src),
      dst: describe(d, probe.dst),
    });
  }

  #resolve(ref: string): Either.Either<Resolved, UnknownEndpoint> {
    const known = this.#endpoints.get(ref);
    if (known !== undefined) return known;
    const r = this.#resolveUncached(ref);
    if (this.#endpoints.size >= ENDPOINT_CACHE) this.#endpoints.clear();
    this.#endpoints.set(ref, r);
    return r;
  }

  #resolveUncached(ref: string): Either.Either<Resolved, UnknownEndpoint> {
    const slash = ref.indexOf("/");
    if (slash > 0 && !ref.includes(":")) {
      const pod = this.#pods.get(ref);
      if (pod === undefined) return Either.left(new UnknownEndpoint({ ref, message: `unknown pod ${ref} (not in the manifests)` }));
      return Either.right({ pod, ip: pod.ips[0], explicitIp: false });
    }
    const ip = parseIp(ref);
    if (ip === undefined)
      return Either.left(new UnknownEndpoint({ ref, message: `"${ref}" is neither a pod (namespace/name) nor an IP address` }));
    const owners = this.#podsByIp.get(ip.text);
    // Several pods can share an IP only through hostNetwork (the node's IP); a real pod wins.
    const pod = owners?.find((p) => !p.hostNetwork) ?? owners?.[0];
    return Either.right({ pod, ip, explicitIp: true });
  }

  #unindexPod(key: string): boolean {
    const old = this.#pods.get(key);
    if (old === undefined) return false;
    this.#pods.delete(key);
    for (const ip of old.ips) {
      const list = this.#podsByIp.get(ip.text)?.filter((p) => p !== old);
      if (list === undefined || list.length === 0) this.#podsByIp.delete(ip.text);
      else this.#podsByIp.set(ip.text, list);
    }
    this.#podsByNs.get(old.namespace)?.delete(key);
    this.#selection.delete(key);
    return true;
  }

  #policiesChanged(namespace: string): void {
    const list = [...(this.#policiesInNs.get(namespace)?.values() ?? [])];
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (list.length === 0) this.#policiesByNs.delete(namespace);
    else this.#policiesByNs.set(namespace, list);
    for (const key of this.#podsByNs.get(namespace) ?? []) this.#selection.delete(key);
    this.#changed();
  }

  #changed(): void {
    this.#generation++;
    this.#cache.clear();
    this.#endpoints.clear();
  }
}

/**
 * A connection has one address family: when the other end was given as an IP, a dual-stack
 * pod given by name uses its IP of that family; otherwise its primary IP.
 */
const withFamily = (ep: Resolved, other: Resolved): Resolved => {
  if (ep.explicitIp || ep.pod === undefined || !other.explicitIp || other.ip === undefined) return ep;
  const kind = other.ip.kind;
  const ip: ParsedIp | undefined = ep.pod.ips.find((x) => x.kind === kind) ?? ep.ip;
  return ip === ep.ip ? ep : { ...ep, ip };
};

const describe = (ep: Resolved | (Endpoint & { explicitIp?: boolean }), ref: string): EndpointDesc =>
  ep.pod !== undefined
    ? { kind: "pod", ref: podKey(ep.pod.namespace, ep.pod.name), ip: ep.ip?.text, hostNetwork: ep.pod.hostNetwork }
    : { kind: "external", ip: ep.ip?.text ?? ref };
