// The cluster state the evaluator sees (namespaces, pods, policies) with its indexes: pods by
// IP and namespace, policies by namespace, which policies select each pod (lazy, invalidated
// per namespace/pod), resolved endpoints, and a bounded verdict cache emptied whenever the state
// changes. Pure: no I/O, no clocks; the detector feeds it watch events, `policy check` manifests.
import * as Either from "effect/Either";
import { evaluateDirection, NO_POLICY, type Endpoint } from "./evaluateDirection.js";
import type { EndpointDesc, Labels, NamespaceInfo, PodInfo, Policy, Probe, Verdict } from "./model.js";
import { namespaceInfo } from "./parseObjects.js";
import { podKey, PodStore } from "./PodStore.js";
import { describeEndpoint, resolveEndpoint, UnknownEndpoint, withFamily, type Resolved } from "./resolveEndpoint.js";
import { selectorMatches } from "./selector.js";

export { UnknownEndpoint };

export type Evaluation = Either.Either<Verdict, UnknownEndpoint>;

export interface EngineOptions {
  /** Verdicts kept before the cache is emptied; 0 disables caching. Default 128 Ki (~40 MB). */
  readonly cacheSize?: number;
}

export interface Selection {
  readonly ingress: readonly Policy[];
  readonly egress: readonly Policy[];
}

const ENDPOINT_CACHE = 1 << 16;

const byName = (a: Policy, b: Policy): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class PolicyEngine {
  readonly #namespaces = new Map<string, NamespaceInfo>();
  readonly #implicitNs = new Map<string, Labels>();
  readonly #pods = new PodStore();
  readonly #policies = new Map<string, Map<string, Policy>>();
  /** Per namespace, sorted by name so verdicts list policies in a stable order. */
  readonly #policiesByNs = new Map<string, Policy[]>();
  readonly #selection = new Map<string, Selection>();
  readonly #cache = new Map<string, Evaluation>();
  /** Pod refs and IP strings already resolved (IP parsing dominates an uncached verdict). */
  readonly #endpoints = new Map<string, Either.Either<Resolved, UnknownEndpoint>>();
  readonly #cacheSize: number;
  #policyCount = 0;
  #generation = 0;

  constructor(options: EngineOptions = {}) {
    this.#cacheSize = options.cacheSize ?? 1 << 17;
  }

  /** Bumped by every change; verdicts computed under an older generation are gone. */
  get generation(): number {
    return this.#generation;
  }

  get counts(): { namespaces: number; pods: number; policies: number; cachedVerdicts: number } {
    return {
      namespaces: this.#namespaces.size,
      pods: this.#pods.size,
      policies: this.#policyCount,
      cachedVerdicts: this.#cache.size,
    };
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
    this.#pods.upsert(pod);
    this.#selection.delete(key);
    this.#changed();
  }

  deletePod(namespace: string, name: string): void {
    const key = podKey(namespace, name);
    if (this.#pods.delete(key) === undefined) return;
    this.#selection.delete(key);
    this.#changed();
  }

  upsertPolicy(policy: Policy): void {
    let inNs = this.#policies.get(policy.namespace);
    if (inNs === undefined) this.#policies.set(policy.namespace, (inNs = new Map<string, Policy>()));
    if (!inNs.has(policy.name)) this.#policyCount++;
    inNs.set(policy.name, policy);
    this.#policiesChanged(policy.namespace);
  }

  deletePolicy(namespace: string, name: string): void {
    if (this.#policies.get(namespace)?.delete(name) !== true) return;
    this.#policyCount--;
    this.#policiesChanged(namespace);
  }

  /** Resolves "namespace/name" or an IP; an IP of no pod is external. */
  resolve(ref: string): Either.Either<Endpoint & { readonly desc: EndpointDesc }, UnknownEndpoint> {
    return Either.map(this.#resolve(ref), (r) => ({ pod: r.pod, ip: r.ip, desc: describeEndpoint(r, ref) }));
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

  /** Labels of a namespace; one known only through its pods has just kubernetes.io/metadata.name. */
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
    const { port, protocol } = probe;
    const egress =
      s.pod === undefined
        ? NO_POLICY
        : evaluateDirection(this.selecting(s.pod).egress, "egress", d, d.pod, port, protocol, this.namespaceLabels);
    const ingress =
      d.pod === undefined
        ? NO_POLICY
        : evaluateDirection(this.selecting(d.pod).ingress, "ingress", s, d.pod, port, protocol, this.namespaceLabels);
    return Either.right({
      allowed: egress.verdict !== "denied" && ingress.verdict !== "denied",
      ingress,
      egress,
      src: describeEndpoint(s, probe.src),
      dst: describeEndpoint(d, probe.dst),
    });
  }

  #resolve(ref: string): Either.Either<Resolved, UnknownEndpoint> {
    const known = this.#endpoints.get(ref);
    if (known !== undefined) return known;
    const r = resolveEndpoint(ref, this.#pods);
    if (this.#endpoints.size >= ENDPOINT_CACHE) this.#endpoints.clear();
    this.#endpoints.set(ref, r);
    return r;
  }

  #policiesChanged(namespace: string): void {
    const list = [...(this.#policies.get(namespace)?.values() ?? [])].sort(byName);
    if (list.length === 0) this.#policiesByNs.delete(namespace);
    else this.#policiesByNs.set(namespace, list);
    for (const key of this.#pods.keysInNamespace(namespace)) this.#selection.delete(key);
    this.#changed();
  }

  #changed(): void {
    this.#generation++;
    this.#cache.clear();
    this.#endpoints.clear();
  }
}
